"""The bot is slow or says nothing (action server slow or down behind Rasa): the shopper is never
left in silence, is offered a human within 5 s, and the conversation goes on when the bot is back."""
from __future__ import annotations

import time

from tests.handoff.conftest import auth, is_message, login, new_conversation, open_shopper_socket, receive_until


async def test_slow_bot_gets_a_polite_note_within_5_s_and_its_late_answer_still_arrives(service_factory, fake_rasa):
    service = await service_factory(real_time=True)
    assert service.ctx.settings.limits["bot_reply_timeout_seconds"] == 5  # the shipped setting
    client = service.client
    conv, token, shopper = await open_shopper_socket(client)
    fake_rasa.delay = 7.0
    started = time.monotonic()
    await shopper.send_json({"type": "message", "text": "快递到哪了，物流怎么不动"})
    note = (await receive_until(shopper, is_message("system", "稍后再试"), timeout=6))[-1]["message"]
    waited = time.monotonic() - started
    assert 4.5 <= waited < 5.5, waited
    assert "转人工客服" in note["text"] and note["extra"]["buttons"][0]["action"] == "request_human"
    # The bot's answer, when it finally comes, is relayed: nothing the bot said is lost.
    fake_rasa.delay = 0.0
    late = (await receive_until(shopper, is_message("bot", "杭州转运中心"), timeout=4))[-1]
    assert time.monotonic() - started >= 7.0 and late["message"]["id"] > note["id"]
    # And the next turn is normal again.
    await shopper.send_json({"type": "message", "text": "你好"})
    await receive_until(shopper, is_message("bot"), timeout=3)
    await shopper.close()


async def test_silent_bot_gets_the_note_at_once_and_the_shopper_can_reach_a_human(service, fake_rasa):
    client = service.client
    conv, token, shopper = await open_shopper_socket(client)
    fake_rasa.silent = True
    started = time.monotonic()
    await shopper.send_json({"type": "message", "text": "我的订单3829104857263541到哪了"})
    note = (await receive_until(shopper, is_message("system", "稍后再试"), timeout=3))[-1]["message"]
    assert time.monotonic() - started < 1.0
    assert note["extra"]["event"] == "bot_silent"
    # The shopper takes the offered button: a ticket with their words, and an agent answers.
    await shopper.send_json({"type": "request_human"})
    await receive_until(shopper, lambda f: f["type"] == "state" and f["state"] == "queued")
    agent = await login(client, "logi1")
    ticket = (await (await client.post("/api/agent/claim", headers=auth(agent))).json())["ticket"]
    assert ticket["summary"]["last_text"] == "我的订单3829104857263541到哪了"
    await client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "亲，我来帮您查"})
    await receive_until(shopper, is_message("agent", "我来帮您查"))
    # Back with the bot after the agent hands back, the bot (now working) answers again.
    fake_rasa.silent = False
    await client.post(f"/api/conversations/{conv}/handback", headers=auth(agent))
    await shopper.send_json({"type": "message", "text": "你好"})
    await receive_until(shopper, is_message("bot"), timeout=3)
    await shopper.close()


async def test_a_handoff_call_that_returns_nothing_gets_no_extra_note(service, fake_rasa):
    """Silence is expected when the bot itself handed over (conversation paused): no "slow" note then."""
    client = service.client
    conv, token = await new_conversation(client)
    headers = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}
    await client.post("/api/shopper/messages", json={"text": "转人工"}, headers=headers)
    await client.post("/api/shopper/messages", json={"text": "人呢"}, headers=headers)  # queued: not sent to Rasa
    messages = (await (await client.get("/api/shopper/messages", headers=headers)).json())["messages"]
    assert not any("稍后再试" in m["text"] for m in messages)
    assert [m["text"] for m in messages if m["sender"] == "shopper"] == ["转人工", "人呢"]
