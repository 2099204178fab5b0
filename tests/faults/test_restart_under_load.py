"""The real handoff service (``python -m handoff``) restarted while shoppers chat and agents pull
tickets: every acknowledged message is stored exactly once, every ticket is taken by exactly one
agent, and clients carry on by retrying (the storefront widget and console do the same)."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
import pytest

from tests import services
from tests.handoff.conftest import BOT_SECRET, RASA_TOKEN

SHOPPERS = 24
MESSAGES = 5
AGENTS = ("chenjing", "lixiaoyu", "wangfang")  # settings/handoff.yml demo agents, capacity 4 + 3 + 3


REFUSED: list[str] = []  # calls that met the service down (proves the restart hit the load)


async def retrying(call, deadline: float):
    """Call until the service answers something other than 'down' (connection refused, 502/503)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            status, body = await call()
            if status not in (502, 503):
                return status, body
            REFUSED.append(str(status))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            REFUSED.append(type(error).__name__)
        if loop.time() > deadline:
            raise AssertionError("the service did not come back in time")
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_restart_under_load_loses_nothing_and_assigns_each_ticket_once(fake_rasa, tmp_path, monkeypatch):
    port = services.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"KEFU_HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'handoff.db'}", "KEFU_HANDOFF_PORT": str(port),
           "KEFU_HANDOFF_HOST": "127.0.0.1", "KEFU_RASA_URL": fake_rasa.url, "KEFU_RASA_TOKEN": RASA_TOKEN,
           "KEFU_BOT_SECRET": BOT_SECRET}
    monkeypatch.setenv("KEFU_HANDOFF_URL", url)  # the fake Rasa's action_handoff posts tickets here
    monkeypatch.setenv("KEFU_BOT_SECRET", BOT_SECRET)
    subprocess.run([sys.executable, "-m", "handoff.seed"], cwd=services.ROOT, env={**os.environ, **env},
                   check=True, capture_output=True)

    def start() -> services.Process:
        return services.start("handoff", [sys.executable, "-m", "handoff"], env, f"{url}/", tmp_path, timeout=60)

    process = start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    acked: dict[str, list[str]] = {}
    claims: list[tuple[str, int]] = []
    wanted_tickets: set[str] = set()
    async with aiohttp.ClientSession(base_url=url, timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def post(path, json=None, headers=None):
            async with http.post(path, json=json, headers=headers) as resp:
                return resp.status, await resp.json(content_type=None)

        async def shopper(n: int) -> None:
            status, body = await retrying(lambda: post("/api/shopper/conversations"), deadline)
            assert status == 201
            conv, token = body["conversation_id"], body["token"]
            headers = {"X-Conversation-Id": conv, "Authorization": f"Bearer {token}"}
            acked[conv] = []
            for i in range(MESSAGES):
                text = "转人工" if (i == 1 and n % 3 == 0) else f"顾客{n}的第{i}条消息"
                if text == "转人工":
                    wanted_tickets.add(conv)
                status, body = await retrying(lambda: post("/api/shopper/messages", {"text": text}, headers), deadline)
                assert status == 201, body
                acked[conv].append(text)
                await asyncio.sleep(0.3 + 0.05 * (n % 4))

        async def agent(username: str) -> None:
            status, body = await retrying(
                lambda: post("/api/agent/login", {"username": username, "password": "kefu123"}), deadline)
            assert status == 200, body
            headers = {"Authorization": f"Bearer {body['token']}"}
            while loop.time() < deadline:
                status, body = await retrying(lambda: post("/api/agent/claim", headers=headers), deadline)
                if status == 200 and body.get("ticket"):
                    claims.append((username, body["ticket"]["ticket_id"]))
                elif status == 409:  # at capacity: done
                    return
                elif shoppers_done.is_set() and len(claims) >= len(wanted_tickets):
                    return
                await asyncio.sleep(0.05)

        async def restart() -> None:
            await asyncio.sleep(0.8)
            stopped_at = loop.time()
            process.popen.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish
            await loop.run_in_executor(None, process.popen.wait, 30)
            exited_at = loop.time()
            nonlocal_restarted.append(await loop.run_in_executor(None, start))
            print(f"restart: old process exited after {exited_at - stopped_at:.1f} s, "
                  f"new one ready after {loop.time() - stopped_at:.1f} s")

        async def all_shoppers() -> None:
            await asyncio.gather(*(shopper(n) for n in range(SHOPPERS)))
            shoppers_done.set()

        shoppers_done = asyncio.Event()
        nonlocal_restarted: list[services.Process] = []
        try:
            await asyncio.gather(all_shoppers(), *(agent(a) for a in AGENTS), restart())
            assert nonlocal_restarted, "the service was not restarted"
            assert len(REFUSED) >= SHOPPERS // 2, REFUSED  # clients really hit the restart mid-conversation

            # Every acknowledged message is there once, in order; nothing else was added by retries.
            async with http.post("/api/agent/login", json={"username": "chenjing", "password": "kefu123"}) as resp:
                boss = {"Authorization": f"Bearer {(await resp.json())['token']}"}
            for conv, texts in acked.items():
                async with http.get(f"/api/conversations/{conv}", headers=boss) as resp:
                    detail = await resp.json()
                stored = [m["text"] for m in detail["messages"] if m["sender"] == "shopper"]
                assert stored == texts, conv
                tickets = detail["tickets"]
                if conv in wanted_tickets:
                    assert len(tickets) == 1 and tickets[0]["status"] == "assigned", (conv, tickets)
                else:
                    assert tickets == []
            # Each ticket was handed to exactly one agent, and the database agrees with what they were told.
            ids = [ticket_id for _, ticket_id in claims]
            assert len(ids) == len(set(ids)) == len(wanted_tickets)
            for username in AGENTS:
                async with http.post("/api/agent/login", json={"username": username, "password": "kefu123"}) as resp:
                    headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}
                async with http.get("/api/agent/tickets", headers=headers) as resp:
                    mine = {t["ticket_id"] for t in (await resp.json())["tickets"] if t["status"] == "assigned"}
                assert mine == {t for who, t in claims if who == username}, username
        finally:
            for proc in [process, *nonlocal_restarted]:
                proc.stop()
