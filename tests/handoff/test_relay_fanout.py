"""What a message costs with many conversations open: it goes, as is, to the sockets that follow
its conversation, and nothing else is refreshed (the bench had 500 open, p99 42 s)."""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import event

from handoff.agents import upsert_agent
from handoff.bus import NOTIFY_MAX_BYTES, _notify_payload
from handoff.conversations import add_message, lock_messages
from handoff.live import QUEUE_PUSH_SECONDS

from .conftest import BOT_SECRET, auth, is_message, login, open_shopper_socket, receive_until

SKILLS = ["logistics", "returns", "usage", "orders", "complaints"]
SETTLE = QUEUE_PUSH_SECONDS + 0.4  # long enough for any frame an event would cause


class Frames:
    """Collects what a WebSocket receives, in the background."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.seen: list[dict] = []
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            self.seen.append(json.loads(msg.data))

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.ws.close()


async def handed_over(client, conversation_id: str) -> None:
    resp = await client.post("/api/bot/handoff", headers={"Authorization": f"Bearer {BOT_SECRET}"},
                             json={"conversation_id": conversation_id, "reason": "complaint", "topic": "logistics"})
    assert resp.status == 201, await resp.text()


async def assigned_chat(client, agent, console) -> tuple[str, Frames]:
    """A storefront chat handed over, claimed by ``agent`` and watched on ``console``."""
    conv, _token, ws = await open_shopper_socket(client)
    await handed_over(client, conv)
    claimed = await (await client.post("/api/agent/claim", headers=auth(agent))).json()
    assert claimed["ticket"]["conversation_id"] == conv
    await console.send_json({"type": "watch", "conversation_id": conv, "after": 0})
    return conv, Frames(ws)


def count_statements(ctx) -> dict[str, int]:
    """SQL statements run from now on, by engine; BEGINs and presence heartbeats left out."""
    counts = {"reads": 0, "writes": 0}

    def counter(kind: str):
        def on_execute(_conn, _cursor, statement: str, *_args) -> None:
            if not statement.startswith("BEGIN") and "agents" not in statement:
                counts[kind] += 1
        return on_execute

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", counter("reads"))
    event.listen(ctx.writer.sync_engine, "before_cursor_execute", counter("writes"))
    return counts


async def test_shopper_message_reaches_only_its_followers_at_a_cost_independent_of_open_chats(service_factory):
    service = await service_factory(real_time=True)
    ctx, client = service.ctx, service.client
    await upsert_agent(ctx, "many", "pw", "多多", SKILLS, capacity=50)
    agent = await login(client, "many", "pw")
    console_ws = await client.ws_connect(f"/ws/agent?token={agent['token']}")
    console = Frames(console_ws)
    chats = [await assigned_chat(client, agent, console_ws) for _ in range(3)]

    async def one_message(text: str) -> dict[str, int]:
        await asyncio.sleep(SETTLE)  # frames of the set-up pass
        for _, frames in chats:
            frames.seen.clear()
        console.seen.clear()
        counts = count_statements(ctx)
        await chats[0][1].ws.send_json({"type": "message", "text": text})
        for _ in range(100):
            if any(is_message("shopper", text)(f) for f in console.seen):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(SETTLE)
        # The console gets the message and nothing else: no per-message "conversation_changed"
        # (which made consoles re-fetch their tickets and the whole transcript).
        assert [(f["type"], f.get("message", {}).get("text")) for f in console.seen] == [("message", text)]
        # The shopper sees their own message; no state frame, nothing for the other chats.
        assert [(f["type"], f.get("message", {}).get("text")) for f in chats[0][1].seen] == [("message", text)]
        assert all(not frames.seen for _, frames in chats[1:])
        return dict(counts)

    await one_message("第一条")  # starts the agent's silence clock (one more UPDATE, once)
    few = await one_message("三个会话时")
    chats += [await assigned_chat(client, agent, console_ws) for _ in range(9)]
    many = await one_message("十二个会话时")
    # One short write transaction (where the conversation stands + the insert), no read at all.
    assert few == many and few["reads"] == 0 and few["writes"] <= 3
    for _, frames in chats:
        await frames.close()
    await console.close()


async def test_a_missed_notification_is_read_back_in_order_once(service):
    client, ctx = service.client, service.ctx
    agent = await login(client, "logi1")
    console = await client.ws_connect(f"/ws/agent?token={agent['token']}")
    conv, _token, shopper = await open_shopper_socket(client)
    await handed_over(client, conv)
    assert (await (await client.post("/api/agent/claim", headers=auth(agent))).json())["ticket"]
    await console.send_json({"type": "watch", "conversation_id": conv, "after": 0})
    await receive_until(console, is_message("system", "物流小李"))

    # Stored, but its notification never arrives (as when NOTIFY fails).
    async with ctx.transaction() as session:
        await lock_messages(ctx, session, conv)
        add_message(session, conv, "system", "没有通知的消息", ctx.now())
    await shopper.send_json({"type": "message", "text": "之后的消息"})
    frames = await receive_until(console, is_message("shopper", "之后的消息"))
    texts = [f["message"]["text"] for f in frames if f["type"] == "message"]
    assert texts == ["没有通知的消息", "之后的消息"]
    await shopper.send_json({"type": "message", "text": "再一条"})
    frames = await receive_until(console, is_message("shopper", "再一条"))
    assert [f["message"]["text"] for f in frames if f["type"] == "message"] == ["再一条"]
    await shopper.close()
    await console.close()


async def test_queue_changes_reach_the_waiting_shoppers_in_one_push(service):
    client = service.client
    waiting = []
    for _ in range(2):
        conv, _token, ws = await open_shopper_socket(client)
        await handed_over(client, conv)
        waiting.append(Frames(ws))
    _conv, _token, ws = await open_shopper_socket(client)
    with_bot = Frames(ws)
    await asyncio.sleep(SETTLE)
    for frames in (*waiting, with_bot):
        frames.seen.clear()

    await login(client, "logi1")  # an agent comes online: waiting shoppers' estimates change
    await asyncio.sleep(SETTLE + 0.3)
    for position, frames in enumerate(waiting, start=1):
        assert [(f["type"], f["state"], f["queue_position"], f["agents_online"]) for f in frames.seen] == [
            ("state", "queued", position, 1)]
    assert with_bot.seen == []  # not in the queue: nothing to tell
    for frames in (*waiting, with_bot):
        await frames.close()


def test_a_message_too_big_for_notify_is_left_for_receivers_to_read():
    small = {"t": "msg", "c": "c1", "m": {"id": 5, "text": "亲，在吗"}, "p": 4}
    assert json.loads(_notify_payload(small)) == small
    big = {"t": "msg", "c": "c1", "m": {"id": 6, "text": "很长" * 2000}, "p": 5}
    payload = _notify_payload(big)
    assert len(payload.encode("utf-8")) <= NOTIFY_MAX_BYTES
    assert json.loads(payload) == {"t": "msg", "c": "c1", "p": 5}
