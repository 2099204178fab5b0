"""Agents: accounts, logins, presence and current load."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import delete, func, select, update

from .auth import hash_password, new_token, token_hash, verify_password
from .config import SKILLS
from .context import Context
from .models import Agent, AgentSession, Ticket, dumps
from .routing import AgentLoad, is_online

# Checked against when a username does not exist, so a login takes as long
# for an unknown user as for a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password")


async def upsert_agent(
    ctx: Context, username: str, password: str, display_name: str, skills: Iterable[str], capacity: int | None = None
) -> Agent:
    """Create the agent or update name/skills/capacity (the password only on creation)."""
    skills = [s for s in skills if s in SKILLS]
    capacity = int(capacity or ctx.settings.routing["default_capacity"])
    async with ctx.transaction() as session:
        agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
        if agent is None:
            agent = Agent(
                username=username, display_name=display_name, password_hash=hash_password(password),
                skills=dumps(skills), capacity=capacity, status="offline", last_seen_at=0.0, created_at=ctx.now(),
            )
            session.add(agent)
        else:
            agent.display_name, agent.skills, agent.capacity = display_name, dumps(skills), capacity
        await session.flush()
        return agent


async def login(ctx: Context, username: str, password: str) -> tuple[str, Agent] | None:
    """A new session token for correct credentials, else None.

    The password is checked (scrypt, ~50 ms of CPU) before the write transaction, not inside it.
    """
    async with ctx.sessions() as session:
        agent = (await session.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()
    if agent is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, agent.password_hash):
        return None
    token = new_token()
    now = ctx.now()
    hours = float(ctx.settings.limits["session_hours"])
    async with ctx.transaction() as session:
        await session.execute(delete(AgentSession).where(AgentSession.expires_at < now))
        session.add(AgentSession(token_hash=token_hash(token), agent_id=agent.id, expires_at=now + hours * 3600))
        await session.execute(update(Agent).where(Agent.id == agent.id).values(status="online", last_seen_at=now))
    agent.status, agent.last_seen_at = "online", now
    return token, agent


async def agent_for_token(ctx: Context, token: str | None) -> Agent | None:
    """The agent a live session token belongs to."""
    if not token or len(token) > 200:
        return None
    async with ctx.sessions() as session:
        row = await session.execute(
            select(Agent)
            .join(AgentSession, AgentSession.agent_id == Agent.id)
            .where(AgentSession.token_hash == token_hash(token), AgentSession.expires_at > ctx.now())
        )
        return row.scalar_one_or_none()


async def logout(ctx: Context, token: str, agent_id: int) -> None:
    async with ctx.transaction() as session:
        await session.execute(delete(AgentSession).where(AgentSession.token_hash == token_hash(token)))
        await session.execute(update(Agent).where(Agent.id == agent_id).values(status="offline"))


async def set_status(ctx: Context, agent_id: int, status: str) -> None:
    async with ctx.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(status=status, last_seen_at=ctx.now()))


async def heartbeat(ctx: Context, agent_ids: Iterable[int]) -> None:
    """Keep connected agents counted as online."""
    ids = list(set(agent_ids))
    if not ids:
        return
    async with ctx.transaction() as session:
        await session.execute(update(Agent).where(Agent.id.in_(ids)).values(last_seen_at=ctx.now()))


async def mark_disconnected(ctx: Context, agent_id: int) -> None:
    """Last console closed on this instance: let presence lapse right away."""
    stale = ctx.now() - float(ctx.settings.routing["presence_timeout_seconds"]) - 1
    async with ctx.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_at=stale))


async def agent_loads(ctx: Context, session=None) -> list[AgentLoad]:
    """Every agent with skills, capacity, online flag, active chats and pending offers."""
    now = ctx.now()
    timeout = float(ctx.settings.routing["presence_timeout_seconds"])

    async def _run(s) -> list[AgentLoad]:
        agents = (await s.execute(select(Agent).order_by(Agent.id))).scalars().all()
        active = dict((await s.execute(
            select(Ticket.agent_id, func.count()).where(Ticket.status == "assigned").group_by(Ticket.agent_id)
        )).all())
        offered = dict((await s.execute(
            select(Ticket.offered_to, func.count())
            .where(Ticket.status == "queued", Ticket.offered_to.isnot(None), Ticket.offer_expires_at >= now)
            .group_by(Ticket.offered_to)
        )).all())
        last_assigned = dict((await s.execute(
            select(Ticket.agent_id, func.max(Ticket.assigned_at)).where(Ticket.agent_id.isnot(None)).group_by(Ticket.agent_id)
        )).all())
        return [
            AgentLoad(
                id=a.id, skills=a.skill_list, capacity=a.capacity, active=int(active.get(a.id, 0)),
                offered=int(offered.get(a.id, 0)), online=is_online(a.status, a.last_seen_at, now, timeout),
                last_assigned_at=float(last_assigned.get(a.id) or 0.0),
            )
            for a in agents
        ]

    if session is not None:
        return await _run(session)
    async with ctx.sessions() as s:
        return await _run(s)


def agent_json(agent: Agent, load: AgentLoad | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "skills": agent.skill_list,
        "capacity": agent.capacity,
        "status": agent.status,
    }
    if load is not None:
        data.update(online=load.online, active=load.active, offered=load.offered)
    return data


async def list_agents(ctx: Context) -> list[dict[str, Any]]:
    loads = {l.id: l for l in await agent_loads(ctx)}
    async with ctx.sessions() as session:
        agents = (await session.execute(select(Agent).order_by(Agent.id))).scalars().all()
    return [agent_json(a, loads.get(a.id)) for a in agents]
