"""The background loop: offers, offer timeouts, silent agents, target breaches.

Each instance runs one. Every step is an atomic UPDATE guarded by the state
it expects, so several instances on one PostgreSQL database may run it at the
same time: at most one of them wins each change.
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, text, update

from .agents import agent_loads
from .context import Context, load_sql
from .conversations import add_message, lock_messages
from .models import Conversation, Ticket, dumps, loads
from .routing import choose_agent
from .tickets import _release_offer, queued_tickets, ticket_json

log = logging.getLogger(__name__)


async def expire_offers(ctx: Context) -> int:
    """Offers nobody accepted in time go back; the agent is skipped next round."""
    now = ctx.now()
    expired: list[tuple[int, int]] = []
    async with ctx.transaction() as session:
        rows = (await session.execute(
            select(Ticket).where(Ticket.status == "queued", Ticket.offered_to.isnot(None), Ticket.offer_expires_at < now)
            .order_by(Ticket.id).with_for_update(skip_locked=True)
        )).scalars().all()
        for ticket in rows:
            expired.append((ticket.id, ticket.offered_to))
            _release_offer(ticket)
    for ticket_id, agent_id in expired:
        await ctx.tell_agent(agent_id, {"type": "offer_expired", "ticket_id": ticket_id})
    if expired:
        await ctx.queue_changed()
    return len(expired)


async def requeue_silent(ctx: Context) -> int:
    """Conversations whose agent left the shopper waiting too long go back to the queue."""
    now = ctx.now()
    limit = float(ctx.settings.routing["silent_agent_seconds"])
    moved: list[tuple[int, str, int]] = []
    async with ctx.transaction() as session:
        rows = (await session.execute(
            select(Ticket).where(Ticket.status == "assigned", Ticket.awaiting_agent_since < now - limit)
            .order_by(Ticket.id).with_for_update(skip_locked=True)
        )).scalars().all()
        for ticket in rows:
            moved.append((ticket.id, ticket.conversation_id, ticket.agent_id))
            declined = set(loads(ticket.declined_by, []))
            declined.add(ticket.agent_id)
            ticket.status, ticket.agent_id, ticket.awaiting_agent_since = "queued", None, None
            ticket.offered_to, ticket.offer_expires_at, ticket.declined_by = None, None, dumps(sorted(declined))
            conv = await session.get(Conversation, ticket.conversation_id)
            conv.state, conv.updated_at = "queued", now
        # Every ticket and conversation change first, then the message locks (in key order), then the notes.
        await lock_messages(ctx, session, *(conversation_id for _, conversation_id, _ in moved))
        for _, conversation_id, _ in moved:
            add_message(session, conversation_id, "system",
                        "抱歉让您久等了，刚才的客服暂时无法回复，正在为您安排其他客服，请稍候~", now,
                        extra={"event": "requeued"})
    for ticket_id, conversation_id, agent_id in moved:
        await ctx.tell_agent(agent_id, {"type": "lost", "ticket_id": ticket_id, "conversation_id": conversation_id,
                                        "why": "silent"})
        await ctx.conversation_changed(conversation_id)
    if moved:
        await ctx.queue_changed()
    return len(moved)


async def mark_breaches(ctx: Context) -> int:
    """Count tickets whose first-response target passed without an agent reply."""
    now = ctx.now()
    async with ctx.transaction() as session:
        result = await session.execute(
            update(Ticket)
            .where(Ticket.status.in_(("queued", "assigned")), Ticket.first_response_at.is_(None),
                   Ticket.breached.is_(False), Ticket.target_at < now)
            .values(breached=True)
        )
    return result.rowcount or 0


async def make_offers(ctx: Context) -> int:
    """Offer waiting tickets, in queue order, to eligible online agents."""
    now = ctx.now()
    timeout = float(ctx.settings.routing["offer_timeout_seconds"])
    made: list[tuple[int, int]] = []
    loads_ = [a for a in await agent_loads(ctx) if a.online and a.free_slots > 0]
    if not loads_:
        return 0
    for ticket in await queued_tickets(ctx):
        if ticket.offered_to is not None and ticket.offer_expires_at and ticket.offer_expires_at >= now:
            continue
        agent = choose_agent(ticket.skill, loads(ticket.declined_by, []), loads_)
        if agent is None:
            continue
        async with ctx.transaction() as session:
            row = (await session.execute(
                text(load_sql("make_offer")),
                {"ticket_id": ticket.id, "agent_id": agent.id, "now": now, "expires_at": now + timeout},
            )).first()
        if row is None:  # another instance was quicker
            continue
        agent.offered += 1
        made.append((ticket.id, agent.id))
        if not any(a.free_slots > 0 for a in loads_):
            break
    for ticket_id, agent_id in made:
        async with ctx.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
        await ctx.tell_agent(agent_id, {"type": "offer", "ticket": ticket_json(ticket, now, ctx.policy),
                                        "expires_in": timeout})
    if made:
        await ctx.queue_changed()
    return len(made)


async def tick(ctx: Context) -> None:
    """One round of every timer; also what tests call to avoid waiting."""
    await expire_offers(ctx)
    await requeue_silent(ctx)
    await mark_breaches(ctx)
    await make_offers(ctx)


async def run_forever(ctx: Context) -> None:
    interval = float(ctx.settings.routing["tick_seconds"])
    while True:
        try:
            await tick(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be restarting: keep going
            log.exception("dispatcher tick failed")
        await asyncio.sleep(interval)
