"""Row-lock order on PostgreSQL: agent, then ticket, then conversation (handoff/conversations.py).

A close used to update the conversation row first and then wait for its ticket, while the
dispatcher's requeue held that ticket and waited for the conversation: PostgreSQL aborted one
of them with "deadlock detected" (seen in CI under load). These tests hold a ticket row from
another connection and check the service never sits on a conversation row while it waits.
"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from handoff.agents import upsert_agent
from handoff.dispatcher import requeue_silent
from handoff.models import Agent
from handoff.tickets import claim_next, close_ticket

from .conftest import BOT_SECRET, login, new_conversation

pytestmark = pytest.mark.postgres


async def _assigned_conversation(service) -> tuple[str, int, Agent]:
    async with service.ctx.engine.begin() as conn:
        await conn.execute(text("TRUNCATE messages, tickets, conversations, agent_sessions RESTART IDENTITY CASCADE"))
    conv, _token = await new_conversation(service.client)
    resp = await service.client.post("/api/bot/handoff", headers={"Authorization": f"Bearer {BOT_SECRET}"},
                                     json={"conversation_id": conv, "reason": "complaint", "topic": "logistics"})
    assert resp.status == 201, await resp.text()
    await upsert_agent(service.ctx, "lock-agent", "pw", "锁序小林", ["logistics"], capacity=5)
    headers = await login(service.client, "lock-agent", "pw")
    async with service.ctx.sessions() as session:
        agent = await session.get(Agent, headers["id"])
    ticket = await claim_next(service.ctx, agent)
    assert ticket is not None and ticket.conversation_id == conv
    return conv, ticket.id, agent


async def _conversation_row_is_free(engine, conv: str) -> bool:
    """Can another transaction update the conversation row right now (within 1 s)?"""
    async with engine.connect() as conn:
        async with conn.begin():
            await conn.execute(text("SET LOCAL lock_timeout = '1s'"))
            try:
                await conn.execute(text("UPDATE conversations SET updated_at = updated_at WHERE id = :c"), {"c": conv})
            except Exception as error:  # lock_timeout: someone holds the row
                if "lock timeout" in str(error).lower() or "LockNotAvailable" in type(error.__cause__).__name__:
                    return False
                raise
    return True


async def test_closing_waits_for_its_ticket_before_touching_the_conversation(service_factory, postgres_url):
    service = await service_factory(db_url=postgres_url, real_time=True)
    conv, ticket_id, agent = await _assigned_conversation(service)
    other = service.ctx.engine  # its other pooled connections act as another client
    async with other.connect() as holder:
        await holder.begin()
        await holder.execute(text("SELECT id FROM tickets WHERE id = :t FOR UPDATE"), {"t": ticket_id})
        closing = asyncio.ensure_future(close_ticket(service.ctx, agent, conv, "handed_back"))
        await asyncio.sleep(0.5)  # the close is now waiting for the ticket row
        assert not closing.done()
        assert await _conversation_row_is_free(other, conv), \
            "the close holds the conversation row while it waits for the ticket (deadlock-prone order)"
        await holder.rollback()
    ticket = await asyncio.wait_for(closing, 10)
    assert ticket.status == "handed_back"


async def test_requeue_skips_a_ticket_someone_is_working_on_instead_of_waiting(service_factory, postgres_url):
    service = await service_factory(db_url=postgres_url, real_time=True)
    service.ctx.settings.routing["silent_agent_seconds"] = 0.0
    conv, ticket_id, _agent = await _assigned_conversation(service)
    await asyncio.sleep(0.05)
    other = service.ctx.engine  # its other pooled connections act as another client
    async with other.connect() as holder:
        await holder.begin()
        await holder.execute(text("SELECT id FROM tickets WHERE id = :t FOR UPDATE"), {"t": ticket_id})
        moved = await asyncio.wait_for(requeue_silent(service.ctx), 5)  # does not wait for the row
        assert moved == 0
        assert await _conversation_row_is_free(other, conv)
        await holder.rollback()
    assert await requeue_silent(service.ctx) == 1  # once free, the silent agent's ticket goes back
