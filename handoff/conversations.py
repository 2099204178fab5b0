"""Conversations and their messages: created, stored, read back in order."""
from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .auth import new_token, token_hash
from .context import Context
from .models import Conversation, Message, dumps, loads

SENDERS = ("shopper", "bot", "agent", "system")


@dataclass
class NewConversation:
    conversation_id: str
    token: str


async def create_conversation(ctx: Context) -> NewConversation:
    """A storefront conversation with a fresh secret token for the shopper."""
    token = new_token()
    conversation_id = uuid.uuid4().hex
    now = ctx.now()
    async with ctx.transaction() as session:
        session.add(
            Conversation(
                id=conversation_id, token_hash=token_hash(token), channel="web", state="bot",
                created_at=now, updated_at=now,
            )
        )
    return NewConversation(conversation_id, token)


async def shopper_may_access(ctx: Context, conversation_id: str | None, token: str | None) -> bool:
    """True only for the token issued with this conversation."""
    if not conversation_id or not token or len(conversation_id) > 64:
        return False
    async with ctx.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
    if conv is None or conv.token_hash is None:
        return False
    return hmac.compare_digest(conv.token_hash, token_hash(token))


async def ensure_conversation(session: AsyncSession, conversation_id: str, now: float, channel: str = "rest") -> Conversation:
    """The conversation, created without a shopper token if the bot knows it first."""
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        conv = Conversation(id=conversation_id, token_hash=None, channel=channel, state="bot",
                            created_at=now, updated_at=now)
        session.add(conv)
        await session.flush()
    return conv


def add_message(
    session: AsyncSession,
    conversation_id: str,
    sender: str,
    text: str,
    now: float,
    *,
    agent_id: int | None = None,
    agent_name: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Message:
    """Stage a message in ``session`` (it is stored when the transaction commits)."""
    assert sender in SENDERS, sender
    message = Message(
        conversation_id=conversation_id, sender=sender, text=text, agent_id=agent_id,
        agent_name=agent_name, extra=dumps(extra) if extra else None, created_at=now,
    )
    session.add(message)
    return message


async def store_message(ctx: Context, conversation_id: str, sender: str, text: str, **kwargs: Any) -> dict[str, Any]:
    """Store one message in its own transaction, announce it to the sockets following the
    conversation, and return it as JSON."""
    async with ctx.transaction() as session:
        previous = await last_message_id(session, conversation_id)
        message = add_message(session, conversation_id, sender, text, ctx.now(), **kwargs)
        await session.flush()
        data = message_json(message)
    await ctx.message_added(data, previous)
    return data


async def last_message_id(session: AsyncSession, conversation_id: str) -> int:
    """Read inside a write transaction just before adding a message: the id of the message before
    it (0: none), sent along with the new one so a socket can tell whether it missed one
    (handoff/live.py)."""
    stmt = select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
    return int((await session.execute(stmt)).scalar() or 0)


async def messages_after(ctx: Context, conversation_id: str, after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Messages with id > ``after_id``, oldest first (how clients resume)."""
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id)
            .limit(limit)
        )
        return [message_json(m) for m in rows.scalars()]


def message_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at,
    }
    if message.agent_name:
        data["agent_name"] = message.agent_name
    if message.agent_id is not None:
        data["agent_id"] = message.agent_id
    extra = loads(message.extra, None)
    if extra:
        data["extra"] = extra
    return data
