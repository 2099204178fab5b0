"""Tickets: creation from the bot's handoff, the queue, claims, and closing.

Every state change happens in one short transaction that also stores the
messages the shopper will see about it; notifications go out after commit.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Collection

from sqlalchemy import bindparam, func, select, text

from .agents import agent_loads
from .config import GENERAL_SKILL, SKILLS
from .context import Context, load_sql
from .conversations import add_message, ensure_conversation, lock_messages
from .errors import HandoffError
from .models import Agent, Conversation, Ticket, dumps, loads
from .priority import (
    TicketFeatures,
    aging_rate_per_second,
    compute_priority,
    effective_priority,
    first_response_target,
    level_for,
    queue_sort_key,
)
from .routing import AgentLoad, skill_matches

OPEN = ("queued", "assigned")
SKILL_NAMES = {
    "logistics": "物流", "returns": "退换货", "usage": "商品使用", "orders": "订单",
    "complaints": "投诉", GENERAL_SKILL: "综合",
}


@dataclass
class TicketRequest:
    """What the bot (or the service itself) hands over."""

    conversation_id: str
    reason: str
    skill: str = GENERAL_SKILL
    emotion_score: float | None = None
    emotion_label: str | None = None
    emotion_cues: list[str] = field(default_factory=list)
    customer_id: str | None = None
    vip_tier: str | None = None
    order_id: str | None = None
    order_amount: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------ creation

async def create_ticket(ctx: Context, req: TicketRequest) -> tuple[Ticket, bool]:
    """Open a ticket for the conversation; an already open one is returned as is.

    Returns (ticket, created).
    """
    now = ctx.now()
    policy = ctx.policy
    async with ctx.transaction() as session:
        known = await session.get(Conversation, req.conversation_id)
        conv = await ensure_conversation(session, req.conversation_id, now)
        existing = (await session.execute(
            select(Ticket).where(Ticket.conversation_id == conv.id, Ticket.status.in_(OPEN))
        )).scalar_one_or_none()
        if existing is not None:
            return existing, False
        priority = compute_priority(
            TicketFeatures(req.reason, req.emotion_score, req.vip_tier, req.order_amount), policy
        )
        level = level_for(priority, policy)
        ticket = Ticket(
            conversation_id=conv.id, status="queued", reason=req.reason, skill=req.skill,
            priority=priority, level=level, emotion_score=req.emotion_score, emotion_label=req.emotion_label,
            emotion_cues=dumps(req.emotion_cues) if req.emotion_cues else None,
            customer_id=req.customer_id, vip_tier=req.vip_tier, order_id=req.order_id,
            order_amount=req.order_amount, summary=dumps(req.summary), created_at=now, enqueued_at=now,
            target_at=now + first_response_target(level, policy), declined_by="[]",
        )
        session.add(ticket)
        conv.state, conv.updated_at = "queued", now
        if known is None and req.transcript:
            # Driven straight through Rasa's REST channel: keep the bot's part
            # of the conversation so the agent sees it.
            await lock_messages(ctx, session, conv.id)
            for line in req.transcript:
                sender = "shopper" if line.get("sender") == "user" else "bot"
                add_message(session, conv.id, sender, str(line.get("text", ""))[:4000],
                            float(line.get("timestamp") or now))
        await session.flush()
    await ctx.queue_changed()
    await ctx.conversation_changed(req.conversation_id)
    return ticket, True


# ------------------------------------------------------------------ reading

def ticket_json(ticket: Ticket, now: float, policy: dict[str, Any], agent_name: str | None = None) -> dict[str, Any]:
    waited = now - ticket.enqueued_at
    return {
        "ticket_id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "status": ticket.status,
        "reason": ticket.reason,
        "skill": ticket.skill,
        "priority": ticket.priority,
        "effective_priority": round(effective_priority(ticket.priority, waited, policy), 1)
        if ticket.status == "queued" else ticket.priority,
        "level": ticket.level,
        "waiting_seconds": round(waited, 1),
        "target_at": ticket.target_at,
        "target_seconds_left": None if ticket.first_response_at else round(ticket.target_at - now, 1),
        "breached": bool(ticket.breached) or (ticket.first_response_at is None and now > ticket.target_at),
        "emotion": None if ticket.emotion_score is None and not ticket.emotion_label else {
            "score": ticket.emotion_score, "label": ticket.emotion_label, "cues": loads(ticket.emotion_cues, []),
        },
        "customer": None if not (ticket.customer_id or ticket.vip_tier) else {
            "id": ticket.customer_id, "vip_tier": ticket.vip_tier,
        },
        "order": None if not ticket.order_id and ticket.order_amount is None else {
            "id": ticket.order_id, "amount": ticket.order_amount,
        },
        "summary": loads(ticket.summary, {}),
        "agent_id": ticket.agent_id,
        "agent_name": agent_name,
        "offered_to": ticket.offered_to if ticket.offer_expires_at and ticket.offer_expires_at >= now else None,
        "offer_expires_at": ticket.offer_expires_at,
        "created_at": ticket.created_at,
        "enqueued_at": ticket.enqueued_at,
        "assigned_at": ticket.assigned_at,
        "first_response_at": ticket.first_response_at,
        "transfers": ticket.transfers,
        "closed_at": ticket.closed_at,
        "rating": ticket.rating,
    }


def _sorted_queue(tickets: list[Ticket], policy: dict[str, Any]) -> list[Ticket]:
    return sorted(tickets, key=lambda t: (*queue_sort_key(t.priority, t.enqueued_at, policy), t.id))


async def queued_tickets(ctx: Context, session=None) -> list[Ticket]:
    """Waiting tickets in the order agents get them."""
    stmt = select(Ticket).where(Ticket.status == "queued")
    if session is not None:
        rows = (await session.execute(stmt)).scalars().all()
    else:
        async with ctx.sessions() as s:
            rows = (await s.execute(stmt)).scalars().all()
    return _sorted_queue(list(rows), ctx.policy)


def snapshot_json(tickets: list[Ticket], now: float, policy: dict[str, Any]) -> list[dict[str, Any]]:
    """Queued tickets (in queue order) as the console lists them."""
    out = []
    for position, ticket in enumerate(tickets, start=1):
        item = ticket_json(ticket, now, policy)
        item["position"] = position
        item["last_shopper_text"] = item["summary"].get("last_text") if isinstance(item["summary"], dict) else None
        out.append(item)
    return out


async def queue_snapshot(ctx: Context) -> list[dict[str, Any]]:
    """GET /api/queue: waiting tickets, first the one agents get next."""
    return snapshot_json(await queued_tickets(ctx), ctx.now(), ctx.policy)


async def average_handle_seconds(ctx: Context, session) -> float:
    rows = (await session.execute(
        select(Ticket.closed_at - Ticket.assigned_at)
        .where(Ticket.closed_at.isnot(None), Ticket.assigned_at.isnot(None))
        .order_by(Ticket.closed_at.desc()).limit(20)
    )).scalars().all()
    values = [float(v) for v in rows if v and v > 0]
    if len(values) >= 3:
        return sum(values) / len(values)
    return float(ctx.settings.routing["estimated_handle_seconds"])


@dataclass(frozen=True)
class SkillSupply:
    """Online agents able to take one skill: how many, their free slots, their total capacity."""

    agents: int
    free_slots: int
    capacity: int


def skill_supply(skill: str, loads: list[AgentLoad]) -> SkillSupply:
    able = [a for a in loads if a.online and skill_matches(a.skills, skill)]
    return SkillSupply(len(able), sum(max(a.free_slots, 0) for a in able), sum(max(a.capacity, 1) for a in able))


def estimate_wait(position: int, skill: str, loads: list[AgentLoad], handle_seconds: float,
                  supply: SkillSupply | None = None) -> tuple[int, int | None]:
    """(online agents able to help, estimated seconds) for the ticket at ``position``.

    Tickets ahead that fit in free slots start at once (about 15 s for an
    offer to be taken); beyond that, agents able to help free a slot every
    ``handle_seconds / total capacity`` seconds on average. None: nobody online.
    ``supply``: ``skill_supply(skill, loads)`` when the caller already counted it.
    """
    supply = supply or skill_supply(skill, loads)
    if not supply.agents:
        return 0, None
    if position <= supply.free_slots:
        return supply.agents, 15
    return supply.agents, int(math.ceil((position - supply.free_slots) * handle_seconds / supply.capacity)) + 15


def tickets_ahead(queue: list[Ticket]) -> dict[str, tuple[Ticket, int]]:
    """Conversation id → (its queued ticket, how many tickets wait ahead of it for the same agents:
    same skill, or ``general`` on either side), for the whole queue in one pass."""
    by_skill: Counter[str] = Counter()
    out: dict[str, tuple[Ticket, int]] = {}
    for position, ticket in enumerate(queue):
        if ticket.skill == GENERAL_SKILL:
            ahead = position
        else:
            ahead = by_skill[ticket.skill] + by_skill[GENERAL_SKILL]
        out[ticket.conversation_id] = (ticket, ahead)
        by_skill[ticket.skill] += 1
    return out


def _queued_place(ticket: Ticket, ahead: int, loads: list[AgentLoad], handle: float,
                  supply: SkillSupply | None = None) -> dict[str, Any]:
    agents_online, eta = estimate_wait(ahead + 1, ticket.skill, loads, handle, supply)
    return {
        "ticket_id": ticket.id, "status": "queued", "queue_position": ahead + 1,
        "estimated_wait_seconds": eta, "agents_online": agents_online, "level": ticket.level,
    }


async def queue_place(ctx: Context, conversation_id: str) -> dict[str, Any] | None:
    """Where a conversation's open ticket stands, as the shopper sees it."""
    async with ctx.sessions() as session:
        ticket = (await session.execute(
            select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
        )).scalar_one_or_none()
        if ticket is None:
            return None
        if ticket.status == "assigned":
            agent = await session.get(Agent, ticket.agent_id)
            return {"ticket_id": ticket.id, "status": "assigned", "agent_name": agent.display_name if agent else None}
        queue = await queued_tickets(ctx, session)
        loads = await agent_loads(ctx, session)
        handle = await average_handle_seconds(ctx, session)
    _, ahead = tickets_ahead(queue).get(conversation_id, (ticket, 0))
    return _queued_place(ticket, ahead, loads, handle)


@dataclass
class QueueView:
    """One read of the queue for a whole push: the queue, and the places of the conversations asked about."""

    tickets: list[Ticket]
    places: dict[str, dict[str, Any]]


async def queue_view(ctx: Context, conversation_ids: Collection[str]) -> QueueView:
    """The waiting queue and, for those of ``conversation_ids`` waiting in it, their place
    (as ``queue_place`` gives it), in one session whatever their number."""
    async with ctx.sessions() as session:
        queue = await queued_tickets(ctx, session)
        waiting = {c: found for c, found in tickets_ahead(queue).items() if c in conversation_ids}
        if not waiting:
            return QueueView(queue, {})
        loads = await agent_loads(ctx, session)
        handle = await average_handle_seconds(ctx, session)
    supply = {skill: skill_supply(skill, loads) for skill in {t.skill for t, _ in waiting.values()}}
    return QueueView(queue, {c: _queued_place(t, ahead, loads, handle, supply[t.skill])
                             for c, (t, ahead) in waiting.items()})


async def open_ticket(ctx: Context, conversation_id: str) -> Ticket | None:
    async with ctx.sessions() as session:
        return (await session.execute(
            select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
        )).scalar_one_or_none()


# ------------------------------------------------------------------ taking tickets

def _claim_statement(ctx: Context):
    name = "claim_postgres" if ctx.postgres else "claim_sqlite"
    return text(load_sql(name)).bindparams(bindparam("skills", expanding=True))


async def _lock_agent(ctx: Context, session, agent_id: int) -> None:
    name = "lock_agent_postgres" if ctx.postgres else "lock_agent_sqlite"
    row = (await session.execute(text(load_sql(name)), {"agent_id": agent_id})).first()
    if row is None:
        raise HandoffError("unknown_agent", "This agent does not exist.", 404)
    if row.active >= row.capacity:
        raise HandoffError("at_capacity", f"You already hold {row.active} conversations (capacity {row.capacity}).", 409)


async def _after_assignment(ctx: Context, session, ticket_id: int, agent: Agent, now: float) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    conv = await session.get(Conversation, ticket.conversation_id)
    conv.state, conv.updated_at = "assigned", now
    await lock_messages(ctx, session, conv.id)
    add_message(session, conv.id, "system", f"客服「{agent.display_name}」已接入，很高兴为您服务~", now,
                agent_id=agent.id, agent_name=agent.display_name, extra={"event": "agent_joined"})
    return ticket


async def _announce_assignment(ctx: Context, ticket: Ticket, agent: Agent) -> None:
    await ctx.conversation_changed(ticket.conversation_id)
    await ctx.queue_changed()
    await ctx.tell_agent(agent.id, {"type": "assigned", "ticket_id": ticket.id, "conversation_id": ticket.conversation_id})


async def claim_next(ctx: Context, agent: Agent) -> Ticket | None:
    """Pull: the top ticket this agent may take, assigned to them atomically."""
    now = ctx.now()
    params = {"agent_id": agent.id, "skills": agent.skill_list or ["-"], "now": now,
              "rate": aging_rate_per_second(ctx.policy)}
    async with ctx.transaction() as session:
        await _lock_agent(ctx, session, agent.id)
        row = (await session.execute(_claim_statement(ctx), params)).first()
        if row is None:
            return None
        ticket = await _after_assignment(ctx, session, row.id, agent, now)
    await _announce_assignment(ctx, ticket, agent)
    return ticket


async def accept_offer(ctx: Context, agent: Agent, ticket_id: int) -> Ticket:
    """Take a ticket that was offered to this agent; fails if the offer lapsed."""
    now = ctx.now()
    async with ctx.transaction() as session:
        await _lock_agent(ctx, session, agent.id)
        row = (await session.execute(
            text(load_sql("accept_offer")), {"ticket_id": ticket_id, "agent_id": agent.id, "now": now}
        )).first()
        if row is None:
            raise HandoffError("offer_gone", "This offer has expired or was taken by someone else.", 409)
        ticket = await _after_assignment(ctx, session, row.id, agent, now)
    await _announce_assignment(ctx, ticket, agent)
    return ticket


async def decline_offer(ctx: Context, agent: Agent, ticket_id: int) -> None:
    """Pass on an offer: it goes to the next eligible agent."""
    async with ctx.transaction() as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.status != "queued" or ticket.offered_to != agent.id:
            raise HandoffError("offer_gone", "There is no live offer of this ticket for you.", 409)
        _release_offer(ticket)
    await ctx.queue_changed()


def _release_offer(ticket: Ticket) -> None:
    declined = set(loads(ticket.declined_by, []))
    if ticket.offered_to is not None:
        declined.add(ticket.offered_to)
    ticket.declined_by = dumps(sorted(declined))
    ticket.offered_to = None
    ticket.offer_expires_at = None


# ------------------------------------------------------------------ in the conversation

async def _own_open_ticket(session, agent: Agent, conversation_id: str) -> Ticket:
    """The agent's assigned ticket in this conversation, row-locked first (PostgreSQL): the
    ticket is locked before the conversation row (the lock order of handoff/conversations.py)."""
    ticket = (await session.execute(
        select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status == "assigned")
        .with_for_update()
    )).scalar_one_or_none()
    if ticket is None or ticket.agent_id != agent.id:
        raise HandoffError("not_your_conversation", "This conversation is not assigned to you.", 403)
    return ticket


async def agent_says(ctx: Context, agent: Agent, conversation_id: str, text_: str) -> dict[str, Any]:
    """Store an agent's reply (first-response time and breach are recorded).

    The message goes out by itself; only the first reply also announces a ticket change
    (the console's first-response countdown stops)."""
    from .conversations import last_message_id, message_json

    now = ctx.now()
    async with ctx.transaction() as session:
        ticket = await _own_open_ticket(session, agent, conversation_id)
        first = ticket.first_response_at is None
        if first:
            ticket.first_response_at = now
            if now > ticket.target_at:
                ticket.breached = True
        ticket.awaiting_agent_since = None
        await lock_messages(ctx, session, conversation_id)  # flushes the ticket's changes first
        previous = await last_message_id(session, conversation_id)
        message = add_message(session, conversation_id, "agent", text_, now,
                              agent_id=agent.id, agent_name=agent.display_name)
        await session.flush()
        data = message_json(message)
    await ctx.message_added(data, previous)
    if first:
        await ctx.conversation_changed(conversation_id)
    return data


async def transfer(ctx: Context, agent: Agent, conversation_id: str, *, to_agent_id: int | None = None,
                   to_skill: str | None = None) -> Ticket:
    """Give the conversation to another agent, or back to the queue of a skill group."""
    if (to_agent_id is None) == (to_skill is None):
        raise HandoffError("bad_transfer", "Give exactly one of to_agent_id or to_skill.")
    if to_skill is not None and to_skill not in (*SKILLS, GENERAL_SKILL):
        raise HandoffError("unknown_skill", f"Unknown skill {to_skill!r}; use one of {', '.join(SKILLS)}.")
    if to_agent_id is not None and to_agent_id == agent.id:
        raise HandoffError("bad_transfer", "You cannot transfer a conversation to yourself.")
    now = ctx.now()
    async with ctx.transaction() as session:
        target = None
        if to_agent_id is not None:  # the agent row is locked before the ticket (lock order)
            target = await session.get(Agent, to_agent_id)
            if target is None:
                raise HandoffError("unknown_agent", "That agent does not exist.", 404)
            await _lock_agent(ctx, session, target.id)
        ticket = await _own_open_ticket(session, agent, conversation_id)
        conv = await session.get(Conversation, conversation_id)
        ticket.transfers += 1
        if target is not None:
            ticket.agent_id, ticket.assigned_at, ticket.awaiting_agent_since = target.id, now, now
            note = f"已为您转接给客服「{target.display_name}」，请稍候~"
            by: dict[str, Any] = {"agent_id": target.id, "agent_name": target.display_name}
        else:
            ticket.status, ticket.skill, ticket.agent_id = "queued", to_skill, None
            ticket.offered_to, ticket.offer_expires_at, ticket.declined_by = None, None, dumps([agent.id])
            ticket.awaiting_agent_since = None
            conv.state = "queued"
            note, by = f"正在为您转接{SKILL_NAMES.get(to_skill, '')}专员，请稍候~", {}
        conv.updated_at = now
        await lock_messages(ctx, session, conversation_id)
        add_message(session, conversation_id, "system", note, now, **by, extra={"event": "transferred"})
    await ctx.conversation_changed(conversation_id)
    await ctx.queue_changed()
    if to_agent_id is not None:
        await ctx.tell_agent(to_agent_id, {"type": "assigned", "ticket_id": ticket.id,
                                           "conversation_id": conversation_id, "transferred_from": agent.display_name})
    return ticket


async def close_ticket(ctx: Context, agent: Agent, conversation_id: str, outcome: str) -> Ticket:
    """Resolve (then ask for a rating) or hand back to the bot unresolved."""
    if outcome not in ("resolved", "handed_back"):
        raise HandoffError("bad_outcome", "outcome must be resolved or handed_back")
    now = ctx.now()
    async with ctx.transaction() as session:
        ticket = await _own_open_ticket(session, agent, conversation_id)
        conv = await session.get(Conversation, conversation_id)
        ticket.status, ticket.closed_at, ticket.awaiting_agent_since = outcome, now, None
        conv.state, conv.needs_resume, conv.updated_at = "bot", True, now
        await lock_messages(ctx, session, conversation_id)
        if outcome == "resolved":
            add_message(session, conversation_id, "system",
                        f"客服「{agent.display_name}」已结束本次服务，之后由智能客服小美继续为您服务~", now,
                        extra={"event": "resolved"})
            add_message(session, conversation_id, "bot",
                        f"亲，本次人工服务您还满意吗？请为客服「{agent.display_name}」打个分吧（1-5星）~", now,
                        extra={"rating_request": {"ticket_id": ticket.id}})
        else:
            add_message(session, conversation_id, "system",
                        "客服已将对话交回智能客服小美，您可以继续向小美提问，需要时也可以再次转人工~", now,
                        extra={"event": "handed_back"})
    await ctx.conversation_changed(conversation_id)
    await ctx.queue_changed()
    await resume_bot(ctx, conversation_id)
    return ticket


async def resume_bot(ctx: Context, conversation_id: str) -> bool:
    """Un-pause the Rasa conversation; if Rasa is down, retried before the next bot turn."""
    ok = await ctx.rasa.resume(conversation_id)
    if ok:
        async with ctx.transaction() as session:
            conv = await session.get(Conversation, conversation_id)
            if conv is not None:
                conv.needs_resume = False
    return ok


async def rate(ctx: Context, conversation_id: str, ticket_id: int, score: int) -> None:
    """The shopper's 1-5 rating, stored with the ticket and the agent who resolved it."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise HandoffError("bad_rating", "score must be an integer from 1 to 5")
    now = ctx.now()
    async with ctx.transaction() as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or ticket.conversation_id != conversation_id or ticket.status != "resolved":
            raise HandoffError("no_such_ticket", "There is no resolved service to rate here.", 404)
        if ticket.rating is not None:
            raise HandoffError("already_rated", "This service has already been rated.", 409)
        ticket.rating, ticket.rated_agent_id, ticket.rated_at = score, ticket.agent_id, now
        await lock_messages(ctx, session, conversation_id)
        add_message(session, conversation_id, "system", f"感谢您的评价（{score}星）！小美会继续努力的~", now,
                    extra={"event": "rated", "ticket_id": ticket_id, "score": score})
    await ctx.conversation_changed(conversation_id)


# ------------------------------------------------------------------ reports

async def agent_tickets(ctx: Context, agent: Agent) -> list[dict[str, Any]]:
    """The agent's own open conversations and offers waiting for their answer."""
    now = ctx.now()
    async with ctx.sessions() as session:
        rows = (await session.execute(
            select(Ticket).where(
                ((Ticket.agent_id == agent.id) & (Ticket.status == "assigned"))
                | ((Ticket.offered_to == agent.id) & (Ticket.status == "queued") & (Ticket.offer_expires_at >= now))
            ).order_by(Ticket.assigned_at)
        )).scalars().all()
    return [ticket_json(t, now, ctx.policy, agent.display_name if t.agent_id == agent.id else None) for t in rows]


async def stats(ctx: Context) -> dict[str, Any]:
    """Counts for the console header: waiting, active, breaches per level, ratings."""
    now = ctx.now()
    async with ctx.sessions() as session:
        by_status = dict((await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all())
        breached_rows = (await session.execute(
            select(Ticket.level, func.count()).where(
                (Ticket.breached.is_(True))
                | (Ticket.first_response_at.is_(None) & Ticket.status.in_(OPEN) & (Ticket.target_at < now))
            ).group_by(Ticket.level)
        )).all()
        rating = (await session.execute(select(func.avg(Ticket.rating), func.count(Ticket.rating)))).one()
        per_agent = (await session.execute(
            select(Agent.display_name, func.avg(Ticket.rating), func.count(Ticket.rating))
            .join(Ticket, Ticket.rated_agent_id == Agent.id).group_by(Agent.display_name)
        )).all()
    return {
        "tickets": {k: int(v) for k, v in by_status.items()},
        "breaches": {level: int(n) for level, n in breached_rows},
        "breaches_total": sum(int(n) for _, n in breached_rows),
        "rating": {"average": round(float(rating[0]), 2) if rating[0] is not None else None, "count": int(rating[1])},
        "ratings_by_agent": [
            {"agent": name, "average": round(float(avg), 2), "count": int(n)} for name, avg, n in per_agent
        ],
    }
