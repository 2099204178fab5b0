"""Quick replies (快捷回复): seeded per topic, searched and edited by agents."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select

from .config import GENERAL_SKILL, SKILLS
from .context import Context
from .errors import HandoffError
from .models import QuickReply

TOPICS = (*SKILLS, GENERAL_SKILL)


def reply_json(reply: QuickReply) -> dict[str, Any]:
    return {"id": reply.id, "topic": reply.topic, "title": reply.title, "text": reply.text,
            "updated_at": reply.updated_at}


def _check(topic: str, title: str, text: str) -> None:
    if topic not in TOPICS:
        raise HandoffError("bad_field", f"topic must be one of {', '.join(TOPICS)}.")
    if not title or len(title) > 64:
        raise HandoffError("bad_field", "title must be 1-64 characters.")
    if not text or len(text) > 1000:
        raise HandoffError("bad_field", "text must be 1-1000 characters.")


async def search(ctx: Context, query: str | None = None, topic: str | None = None) -> list[dict[str, Any]]:
    """Replies whose title or text contains ``query``, optionally of one topic (plus general)."""
    stmt = select(QuickReply)
    if topic:
        stmt = stmt.where(QuickReply.topic.in_((topic, GENERAL_SKILL)))
    if query:
        # Searched as typed: % and _ are characters here, not LIKE wildcards.
        needle = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{needle}%"
        stmt = stmt.where(or_(QuickReply.title.like(like, escape="\\"), QuickReply.text.like(like, escape="\\")))
    async with ctx.sessions() as session:
        rows = (await session.execute(stmt.order_by(QuickReply.topic, QuickReply.id).limit(200))).scalars().all()
    return [reply_json(r) for r in rows]


async def create(ctx: Context, topic: str, title: str, text: str, agent_id: int | None = None) -> dict[str, Any]:
    _check(topic, title, text)
    async with ctx.transaction() as session:
        reply = QuickReply(topic=topic, title=title, text=text, updated_at=ctx.now(), updated_by=agent_id)
        session.add(reply)
        await session.flush()
        return reply_json(reply)


async def update(ctx: Context, reply_id: int, agent_id: int, **fields: str | None) -> dict[str, Any]:
    async with ctx.transaction() as session:
        reply = await session.get(QuickReply, reply_id)
        if reply is None:
            raise HandoffError("not_found", "No such quick reply.", 404)
        for key in ("topic", "title", "text"):
            if fields.get(key) is not None:
                setattr(reply, key, fields[key])
        _check(reply.topic, reply.title, reply.text)
        reply.updated_at, reply.updated_by = ctx.now(), agent_id
        return reply_json(reply)


async def remove(ctx: Context, reply_id: int) -> None:
    async with ctx.transaction() as session:
        result = await session.execute(delete(QuickReply).where(QuickReply.id == reply_id))
    if not result.rowcount:
        raise HandoffError("not_found", "No such quick reply.", 404)


async def seed(ctx: Context, replies: list[dict[str, str]]) -> int:
    """Add the configured replies whose (topic, title) is not there yet; returns how many."""
    added = 0
    async with ctx.transaction() as session:
        existing = {(r.topic, r.title) for r in (await session.execute(select(QuickReply))).scalars()}
        for item in replies:
            key = (item["topic"], item["title"])
            if key in existing:
                continue
            _check(item["topic"], item["title"], item["text"])
            session.add(QuickReply(topic=item["topic"], title=item["title"], text=item["text"], updated_at=ctx.now()))
            existing.add(key)
            added += 1
    return added
