"""Many writers in one conversation at once: every message reaches every socket exactly once, in id
order, and a client resuming with ``after=<last id>`` at any moment never skips one.

On PostgreSQL (READ COMMITTED) two transactions writing into one conversation used to be able to
commit out of id order (10 allocated first, 11 committed first): sockets sent 11, then dropped 10
as already seen, and a client that resumed after 11 never got 10. Message writes now take a
per-conversation lock (handoff/conversations.py, ``lock_messages``). The commits here are made
to lag a random few milliseconds, as on a loaded machine, so the old race shows up every run.
"""
from __future__ import annotations

import asyncio
import json
import random
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from handoff.agents import upsert_agent
from handoff.conversations import messages_after, store_message
from handoff.models import Agent
from handoff.relay import _relay_replies, shopper_says
from handoff.tickets import agent_says

from .conftest import BOT_SECRET, auth, login, new_conversation

SKILLS = ["logistics", "returns", "usage", "orders", "complaints"]
PER_WRITER = 25  # 8 writers: 200 messages


def lag_commits(ctx, rng: random.Random) -> None:
    """Every write transaction waits 0-4 ms between its last statement and its commit."""
    inner = ctx.transaction

    @asynccontextmanager
    async def transaction():
        async with inner() as session:
            yield session
            await asyncio.sleep(rng.uniform(0, 0.004))

    ctx.transaction = transaction


class Listener:
    """A WebSocket following the conversation; collects the message frames it gets."""

    def __init__(self, ws, name: str) -> None:
        self.ws, self.name = ws, name
        self.ids: list[int] = []
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for frame in self.ws:
            data = json.loads(frame.data)
            if data.get("type") == "message":
                self.ids.append(data["message"]["id"])

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.ws.close()


async def _resumer(ctx, conversation_id: str, done: asyncio.Event) -> list[int]:
    """A client that keeps resuming with after=<last id it got>, all through the run and once after."""
    got: list[int] = []
    while True:
        finished = done.is_set()
        batch = await messages_after(ctx, conversation_id, got[-1] if got else 0, limit=1000)
        got += [m["id"] for m in batch]
        if finished and not batch:
            return got
        await asyncio.sleep(0.001)


async def _many_writers_in_one_conversation(services: list) -> None:
    first = services[0]
    rng = random.Random(7)
    for service in services:
        lag_commits(service.ctx, rng)
    await upsert_agent(first.ctx, "order-agent", "pw", "顺序小周", SKILLS, capacity=50)
    headers = await login(first.client, "order-agent", "pw")
    conv, token = await new_conversation(first.client)
    resp = await first.client.post("/api/bot/handoff", headers={"Authorization": f"Bearer {BOT_SECRET}"},
                                   json={"conversation_id": conv, "reason": "complaint", "topic": "logistics"})
    assert resp.status == 201, await resp.text()
    claimed = await (await first.client.post("/api/agent/claim", headers=auth(headers))).json()
    assert claimed["ticket"]["conversation_id"] == conv
    async with first.ctx.sessions() as session:
        agent = await session.get(Agent, headers["id"])
    await agent_says(first.ctx, agent, conv, "您好，我是顺序小周，马上帮您查~")  # the first reply changes the ticket

    listeners = []
    for n, service in enumerate(services):
        shopper = await service.client.ws_connect(f"/ws/shopper?conversation_id={conv}&token={token}")
        listeners.append(Listener(shopper, f"shopper@{n}"))
        other = await login(service.client, "order-agent", "pw")
        console = await service.client.ws_connect(f"/ws/agent?token={other['token']}")
        await console.send_json({"type": "watch", "conversation_id": conv, "after": 0})
        listeners.append(Listener(console, f"console@{n}"))
    await asyncio.sleep(0.3)  # sockets registered and caught up

    def on(i: int):
        return services[i % len(services)].ctx

    async def shopper(i: int) -> None:
        for k in range(PER_WRITER):
            await shopper_says(on(i), conv, f"亲 第{i}-{k}条，快递到哪了呀😭")

    async def agent_(i: int) -> None:
        for k in range(PER_WRITER):
            await agent_says(on(i), agent, conv, f"亲，正在帮您催件哈（{i}-{k}）")

    async def system(i: int) -> None:
        for k in range(PER_WRITER):
            await store_message(on(i), conv, "system", f"系统提示 {i}-{k}", extra={"event": "test_note"})

    async def bot(i: int) -> None:
        for k in range(PER_WRITER):
            await _relay_replies(on(i), conv, [{"text": f"小美补充一句 {i}-{k}"}])

    done = asyncio.Event()
    resumers = [asyncio.ensure_future(_resumer(s.ctx, conv, done)) for s in services]
    await asyncio.gather(shopper(0), shopper(1), shopper(2), agent_(0), agent_(1), system(0), system(1), bot(1))
    done.set()
    resumed = await asyncio.gather(*resumers)

    final = [m["id"] for m in await messages_after(first.ctx, conv, 0, limit=1000)]
    assert len(final) == 8 * PER_WRITER + 2  # + the agent-joined note and the first reply
    problems = []
    for n, got in enumerate(resumed):
        if got != final:
            problems.append(f"resuming client @{n} skipped {sorted(set(final) - set(got))}"
                            f" (duplicates: {len(got) - len(set(got))})")
    deadline = asyncio.get_running_loop().time() + 10
    while any(len(lst.ids) < len(final) for lst in listeners) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # nothing more (no duplicates) arrives later
    for lst in listeners:
        if lst.ids != final:
            problems.append(f"{lst.name} got {len(lst.ids)} frames for {len(final)} messages,"
                            f" missing {sorted(set(final) - set(lst.ids))}, in order: {lst.ids == sorted(lst.ids)}")
        await lst.close()
    assert not problems, "\n".join(problems)


async def test_concurrent_writers_in_one_conversation_sqlite(service_factory):
    service = await service_factory(real_time=True)
    await _many_writers_in_one_conversation([service])


@pytest.mark.postgres
async def test_concurrent_writers_in_one_conversation_postgres_two_instances(service_factory, postgres_url):
    a = await service_factory(db_url=postgres_url, real_time=True)
    b = await service_factory(db_url=postgres_url, real_time=True)
    async with a.ctx.engine.begin() as conn:  # an empty queue: the claim takes this test's ticket
        await conn.execute(text("TRUNCATE messages, tickets, conversations, agent_sessions RESTART IDENTITY CASCADE"))
    await _many_writers_in_one_conversation([a, b])


@pytest.mark.postgres
async def test_claims_replies_requeues_and_closes_beside_shopper_messages_never_deadlock(service_factory, postgres_url):
    """Every kind of message-writing transaction at once on two instances: claims (agent row FOR
    UPDATE, ticket FOR UPDATE SKIP LOCKED), replies, closes, the dispatcher's requeue of silent
    agents (several conversations in one transaction) and shopper messages. PostgreSQL would
    abort a deadlock after deadlock_timeout; nothing may fail, and every conversation's messages
    reach the watching console once each, in id order."""
    from handoff.dispatcher import requeue_silent
    from handoff.tickets import claim_next, close_ticket

    a = await service_factory(db_url=postgres_url, real_time=True)
    b = await service_factory(db_url=postgres_url, real_time=True)
    async with a.ctx.engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, tickets, conversations, agent_sessions RESTART IDENTITY CASCADE"))
    rng = random.Random(11)
    for service in (a, b):
        lag_commits(service.ctx, rng)
        service.ctx.settings.routing["silent_agent_seconds"] = 0.05  # agents are requeued all the time
    convs = []
    for _ in range(12):
        conv, _token = await new_conversation(a.client)
        resp = await a.client.post("/api/bot/handoff", headers={"Authorization": f"Bearer {BOT_SECRET}"},
                                   json={"conversation_id": conv, "reason": "complaint", "topic": "logistics"})
        assert resp.status == 201, await resp.text()
        convs.append(conv)
    agents = []
    for i in range(4):
        await upsert_agent(a.ctx, f"dl{i}", "pw", f"坐席{i}", SKILLS, capacity=50)
        headers = await login(a.client, f"dl{i}", "pw")
        async with a.ctx.sessions() as session:
            agents.append(await session.get(Agent, headers["id"]))
    watcher = await login(b.client, "dl0", "pw")
    console = await b.client.ws_connect(f"/ws/agent?token={watcher['token']}")
    for conv in convs:
        await console.send_json({"type": "watch", "conversation_id": conv, "after": 0})
    by_conv: dict[str, list[int]] = {c: [] for c in convs}

    async def read_console() -> None:
        async for frame in console:
            data = json.loads(frame.data)
            if data.get("type") == "message":
                by_conv[data["message"]["conversation_id"]].append(data["message"]["id"])

    reader = asyncio.ensure_future(read_console())
    await asyncio.sleep(0.2)
    stop = asyncio.Event()

    async def agent_work(i: int) -> None:
        ctx = (a, b)[i % 2].ctx
        agent = agents[i]
        while not stop.is_set():
            ticket = await claim_next(ctx, agent)
            if ticket is None:
                await asyncio.sleep(0.01)
                continue
            try:
                await agent_says(ctx, agent, ticket.conversation_id, "亲，我看下您的订单哈")
                if rng.random() < 0.3:
                    await close_ticket(ctx, agent, ticket.conversation_id, "handed_back")
            except Exception as error:  # requeued under us: the service's own answer, not a failure
                if getattr(error, "code", None) != "not_your_conversation":
                    raise

    async def dispatcher(ctx) -> None:
        while not stop.is_set():
            await requeue_silent(ctx)
            await asyncio.sleep(0.02)

    async def shopper(i: int) -> None:
        for k in range(15):
            await shopper_says((a, b)[k % 2].ctx, convs[(i + k) % len(convs)], f"在吗在吗 {i}-{k} 急！！")

    workers = [asyncio.ensure_future(agent_work(i)) for i in range(4)]
    workers += [asyncio.ensure_future(dispatcher(s.ctx)) for s in (a, b)]
    await asyncio.gather(*(shopper(i) for i in range(6)))
    stop.set()
    await asyncio.gather(*workers)  # any deadlock (or other error) is raised here
    final = {c: [m["id"] for m in await messages_after(a.ctx, c, 0, limit=1000)] for c in convs}
    deadline = asyncio.get_running_loop().time() + 10
    while any(len(by_conv[c]) < len(final[c]) for c in convs) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    await console.close()
    async with a.ctx.sessions() as session:
        events = dict((await session.execute(text(
            "SELECT extra, count(*) FROM messages WHERE sender = 'system' GROUP BY extra"))).all())
        senders = dict((await session.execute(text("SELECT sender, count(*) FROM messages GROUP BY sender"))).all())
    assert events.get('{"event":"agent_joined"}', 0) > 5 and events.get('{"event":"requeued"}', 0) > 5
    assert senders.get("shopper") == 6 * 15 and senders.get("agent", 0) > 5  # every shopper message stored
    assert {c: by_conv[c] for c in convs} == final
