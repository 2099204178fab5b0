"""Two service instances on one fresh PostgreSQL database."""
from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from sqlalchemy import text

from handoff.agents import upsert_agent

from .conftest import BOT_SECRET, auth, is_message, login, open_shopper_socket, receive_until

pytestmark = pytest.mark.postgres

SKILLS = ["logistics", "returns", "usage", "orders", "complaints"]


async def _empty(service) -> None:
    async with service.ctx.engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, tickets, conversations, agent_sessions RESTART IDENTITY CASCADE"))


@pytest.mark.slow
async def test_200_tickets_claimed_by_20_agents_on_two_instances_each_exactly_once(service_factory, postgres_url):
    a = await service_factory(db_url=postgres_url, real_time=True)
    b = await service_factory(db_url=postgres_url, real_time=True)
    await _empty(a)
    for i in range(20):
        await upsert_agent(a.ctx, f"pg{i}", "pw", f"坐席{i}", SKILLS, capacity=200)
    bot = {"Authorization": f"Bearer {BOT_SECRET}"}
    reasons = ["explicit_request", "complaint", "lost_parcel", "damaged_item", "threat"]
    for i in range(200):
        client = (a if i % 2 else b).client
        resp = await client.post("/api/bot/handoff", headers=bot, json={
            "conversation_id": f"pg-conv-{i}", "reason": reasons[i % 5], "topic": SKILLS[i % 5],
            "order": {"id": str(10**15 + i), "amount": (i * 37) % 3000},
        })
        assert resp.status == 201
    agents = []
    for i in range(20):
        service = a if i < 10 else b
        agents.append((service, await login(service.client, f"pg{i}", "pw")))

    latencies: list[float] = []

    async def work(service, headers) -> list[int]:
        got = []
        while True:
            started = time.perf_counter()
            resp = await service.client.post("/api/agent/claim", headers=auth(headers))
            latencies.append(time.perf_counter() - started)
            assert resp.status == 200, await resp.text()
            ticket = (await resp.json())["ticket"]
            if ticket is None:
                queue = (await (await service.client.get("/api/queue", headers=auth(headers))).json())["queue"]
                if not queue:
                    return got
                continue
            got.append(ticket["ticket_id"])

    started = time.perf_counter()
    results = await asyncio.gather(*(work(s, h) for s, h in agents))
    elapsed = time.perf_counter() - started
    claimed = [t for r in results for t in r]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    assert sum(1 for r in results if r) >= 10  # the work really was shared
    async with a.ctx.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT status, count(*) FROM tickets GROUP BY status"))).all()
        owners = dict((await conn.execute(text("SELECT id, agent_id FROM tickets"))).all())
    assert rows == [("assigned", 200)]
    for (service, headers), ids in zip(agents, results):
        assert all(owners[t] == headers["id"] for t in ids)
    print(f"\nclaims: {len(latencies)} calls, 200 tickets in {elapsed:.2f}s; latency median "
          f"{statistics.median(latencies) * 1000:.1f} ms, p95 {sorted(latencies)[int(len(latencies) * .95)] * 1000:.1f} ms")


async def test_message_sent_to_one_instance_reaches_agent_on_the_other(service_factory, postgres_url):
    a = await service_factory(db_url=postgres_url, real_time=True)
    b = await service_factory(db_url=postgres_url, real_time=True)
    await _empty(a)
    conv, token, shopper = await open_shopper_socket(a.client)
    await shopper.send_json({"type": "message", "text": "转人工"})
    await receive_until(shopper, lambda f: f["type"] == "state" and f["state"] == "queued")

    agent = await login(b.client, "logi1")
    console = await b.client.ws_connect(f"/ws/agent?token={agent['token']}")
    claimed = await (await b.client.post("/api/agent/claim", headers=auth(agent))).json()
    assert claimed["ticket"]["conversation_id"] == conv
    await receive_until(shopper, is_message("system", "物流小李"))  # B's change reached A's shopper
    detail = await (await b.client.get(f"/api/conversations/{conv}", headers=auth(agent))).json()
    await console.send_json({"type": "watch", "conversation_id": conv, "after": detail["messages"][-1]["id"]})

    await shopper.send_json({"type": "message", "text": "跨实例的消息"})
    await receive_until(console, is_message("shopper", "跨实例的消息"))
    await b.client.post(f"/api/conversations/{conv}/messages", headers=auth(agent), json={"text": "收到，马上处理"})
    await receive_until(shopper, is_message("agent", "马上处理"))
    await shopper.close()
    await console.close()
