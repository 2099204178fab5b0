"""A real browser (Debian's chromium, headless): shopper and agent on the two pages.

Screenshots go to reports/handoff/ (git-ignored).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from handoff.config import load_policy
from playwright.async_api import expect

from .conftest import auth, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "reports" / "handoff"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


FONT_PACKAGES = {"fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                 "fonts-noto-color-emoji": "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"}


def ensure_chromium() -> None:
    """Install Debian's chromium (never `playwright install`) and fonts for Chinese and emoji if missing.

    Without CJK fonts the screenshots show boxes instead of text.
    """
    missing = [] if Path(CHROMIUM).exists() else ["chromium"]
    missing += [pkg for pkg, path in FONT_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        pytest.fail(f"missing {missing} and apt-get is not available")
    subprocess.run(["apt-get", "install", "-y", *missing], check=True, capture_output=True, timeout=900)


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    ensure_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        await browser.close()


async def test_shopper_and_agent_in_real_browser(service_factory, fake_rasa, browser):
    demo_agents = load_policy()["demo_agents"]  # the documented demo logins
    service = await service_factory(real_time=True, run_dispatcher=True, demo_agents=demo_agents,
                                    routing={"tick_seconds": 0.2})
    base = service.url
    dialogs: list[str] = []

    shop = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai")
    shopper = await shop.new_page()
    shopper.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await shopper.goto(base + "/")
    await shopper.screenshot(path=str(SHOTS / "01-storefront.png"))
    await shopper.click("#chat-launcher")
    await shopper.fill("#chat-input", "你好")
    await shopper.press("#chat-input", "Enter")
    await shopper.locator("#chat-log .msg.bot").nth(1).wait_for(timeout=10000)  # welcome + the bot's answer
    await shopper.fill("#chat-input", "我要转人工")
    await shopper.press("#chat-input", "Enter")
    await shopper.wait_for_selector("#chat-banner:not([hidden])", timeout=10000)
    # Nobody is online yet: the shopper is told they can leave a message.
    await expect(shopper.locator("#chat-log")).to_contain_text("您可以直接在这里留言")
    await expect(shopper.locator("#chat-banner")).to_contain_text("留言")
    await shopper.fill("#chat-input", "我的订单 3829104857263541 的快递三天没动了")
    await shopper.press("#chat-input", "Enter")
    await shopper.screenshot(path=str(SHOTS / "02-widget-queued.png"))

    # The agent logs in; the dispatcher offers the conversation; the agent takes it.
    desk = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    agent = await desk.new_page()
    agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await agent.goto(base + "/console")
    await agent.screenshot(path=str(SHOTS / "03-console-login.png"))
    await agent.fill("#login-user", "chenjing")
    await agent.fill("#login-pass", "kefu123")
    await agent.click("#login-form button[type=submit]")
    await agent.wait_for_selector("#app-view:not([hidden])")
    accept = agent.locator(".ticket.offer .offer-actions .primary")
    await accept.wait_for(timeout=10000)
    await agent.screenshot(path=str(SHOTS / "04-console-offer.png"))
    await accept.click()
    await expect(agent.locator("#reply-input")).to_be_enabled(timeout=10000)
    await expect(shopper.locator("#chat-banner")).to_contain_text("陈静", timeout=10000)

    # They exchange messages; HTML typed by the shopper stays text.
    await agent.fill("#reply-input", "亲，您好，我是客服陈静，请问有什么可以帮您？")
    await agent.press("#reply-input", "Enter")
    await shopper.wait_for_selector(".msg.agent .bubble >> text=我是客服陈静", timeout=10000)
    evil = '<img src=x onerror="alert(1)">我的快递三天没动了'
    await shopper.fill("#chat-input", evil)
    await shopper.press("#chat-input", "Enter")
    await agent.wait_for_selector(".line.shopper .text >> text=我的快递三天没动了", timeout=10000)
    shown = await agent.locator(".line.shopper .text").last.text_content()
    assert shown == evil
    assert await agent.locator("#transcript img").count() == 0

    # A quick reply from the panel.
    await agent.click("#qr-toggle")
    await agent.fill("#qr-query", "催件")
    item = agent.locator(".qr-item", has_text="加急催件")
    await item.wait_for(timeout=5000)
    await item.click()
    await agent.press("#reply-input", "Enter")
    await shopper.wait_for_selector(".msg.agent .bubble >> text=加急催件", timeout=10000)
    await agent.screenshot(path=str(SHOTS / "05-console-chat.png"))
    await shopper.screenshot(path=str(SHOTS / "06-widget-agent.png"))

    # Resolve; the shopper rates 5 stars.
    await agent.click("#btn-resolve")
    stars = shopper.locator(".rating button")
    await stars.first.wait_for(timeout=10000)
    await stars.nth(4).click()
    await shopper.wait_for_selector("text=您已评价 5 星", timeout=10000)
    await shopper.wait_for_selector(".msg.system >> text=5星", timeout=10000)
    await shopper.screenshot(path=str(SHOTS / "07-widget-rated.png"))

    headers = await login(service.client, "chenjing", "kefu123")
    stats = await (await service.client.get("/api/stats", headers=auth(headers))).json()
    assert stats["rating"] == {"average": 5.0, "count": 1}
    assert stats["ratings_by_agent"][0]["agent"] == "陈静（组长）"
    assert dialogs == []  # nothing the shopper typed ran as script

    # The same widget on a phone.
    phone = await browser.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True)
    mobile = await phone.new_page()
    await mobile.goto(base + "/")
    await mobile.click("#chat-launcher")
    await mobile.locator("#chat-log .msg").first.wait_for()
    await mobile.screenshot(path=str(SHOTS / "08-widget-mobile.png"))
    await agent.reload()
    await agent.wait_for_selector("#app-view:not([hidden])")
    await agent.click(".tab[data-tab=queue]")
    await agent.screenshot(path=str(SHOTS / "09-console-after.png"))
    for ctx in (shop, desk, phone):
        await ctx.close()
