"""Conversations and their messages: created, stored, read back in order.

Message ids commit in id order within a conversation
----------------------------------------------------
Sockets send a new message only if its id is above the last one they sent, and clients
resume with "everything after id N" (handoff/live.py). Both are right only if, within one
conversation, a message is never committed after a message with a higher id. On SQLite
that holds by itself: one writer, one transaction at a time (handoff/db.py). On PostgreSQL
(READ COMMITTED, several connections and instances) two transactions could take ids 10 and
11 and commit 11 first: 10 was then dropped by every socket and skipped by every client
that resumed after 11.

So every transaction that inserts messages takes ``lock_messages`` first: a transaction-level
advisory lock per conversation, released by the commit. Between taking it and committing,
the transaction reads the id of the conversation's last message (the ``previous`` id
announced with the new one), inserts its messages (their ids come from the sequence now, so
they are above every id already committed in the conversation) and commits. Ids are thus
allocated and committed one transaction at a time per conversation, and ``previous`` is
exactly the message before.

Lock order (no deadlock): the message lock is the LAST lock a transaction takes.
``lock_messages`` flushes the session before taking it, so every other change the
transaction makes (ticket claims with FOR UPDATE SKIP LOCKED, the agent row FOR UPDATE,
ticket and conversation UPDATEs) is made, and its row locks held, before it. After it the
transaction only reads (never blocks on PostgreSQL), inserts messages (a new row; its
foreign key takes FOR KEY SHARE on the conversation row, which conflicts only with FOR UPDATE
on, or key changes and deletes of, conversations rows: the service does none of these) and
commits. So a transaction holding a message lock never waits for any lock, and a wait-for
cycle cannot pass through one. A transaction writing into several conversations
(``dispatcher.requeue_silent``) takes their locks in one global order (ascending key), so
waits between message locks cannot form a cycle either. The row locks taken before are
exactly those the service took before this lock existed.
Row locks come in one order too: agent row, then ticket rows, then the conversation row.
Claims lock the agent (FOR UPDATE), then the ticket (FOR UPDATE SKIP LOCKED); an agent's
reply, transfer or close locks its ticket FOR UPDATE before it updates the conversation
(a transfer to an agent locks that agent first); the dispatcher takes its tickets with FOR
UPDATE SKIP LOCKED in id order. A close used to update the conversation and then the
ticket while the dispatcher's requeue had updated the ticket and waited for the
conversation: PostgreSQL aborted one of them as a deadlock (test_message_order.py).
Rules for new code: call ``lock_messages`` after the transaction's last other write and
before its first ``add_message`` (or ``execute_message_insert`` for a prebuilt INSERT); change
nothing else after it. Both raise ``MessageLockMissing`` when the transaction did not lock the
conversation (checked on SQLite too), so insert messages through nothing else. The relay's hot
path runs its whole transaction as plain Core on a sync connection in one greenlet
(``Context.run_transaction``): ``lock_messages_sync`` and ``insert_message_sync`` are the same
lock and the same check there.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection, Row
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
    values = {"id": conversation_id, "token_hash": token_hash(token), "channel": "web", "state": "bot",
              "needs_resume": False, "created_at": now, "updated_at": now}
    await ctx.run_transaction(lambda connection: connection.execute(_INSERT_CONVERSATION, values))
    return NewConversation(conversation_id, token)


# Every storefront conversation and every shopper socket runs these: Core, built once.
_INSERT_CONVERSATION = Conversation.__table__.insert()
_TOKEN_HASH = select(Conversation.token_hash).where(Conversation.id == bindparam("c"))
_MESSAGES_AFTER = (
    select(Message.id, Message.conversation_id, Message.sender, Message.text, Message.created_at,
           Message.agent_id, Message.agent_name, Message.extra)
    .where(Message.conversation_id == bindparam("c"), Message.id > bindparam("after"))
    .order_by(Message.id).limit(bindparam("limit"))
)


async def shopper_may_access(ctx: Context, conversation_id: str | None, token: str | None) -> bool:
    """True only for the token issued with this conversation."""
    if not conversation_id or not token or len(conversation_id) > 64:
        return False
    stored = await ctx.run_read(lambda connection: connection.execute(_TOKEN_HASH, {"c": conversation_id}).scalar())
    if stored is None:
        return False
    return hmac.compare_digest(stored, token_hash(token))


async def ensure_conversation(session: AsyncSession, conversation_id: str, now: float, channel: str = "rest") -> Conversation:
    """The conversation, created without a shopper token if the bot knows it first."""
    conv = await session.get(Conversation, conversation_id)
    if conv is None:
        conv = Conversation(id=conversation_id, token_hash=None, channel=channel, state="bot",
                            created_at=now, updated_at=now)
        session.add(conv)
        await session.flush()
    return conv


# Advisory lock keys of message locks: (this namespace, 32-bit hash of the conversation id).
# The two-integer form of the key never collides with one-bigint advisory keys.
MESSAGE_LOCK_NAMESPACE = 0x6B6D7367  # "kmsg"
_LOCK_MESSAGES = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


def message_lock_key(conversation_id: str) -> int:
    """The conversation's advisory lock key: a signed 32-bit hash, the same in every process
    (two conversations sharing one only wait for each other's message writes)."""
    return int.from_bytes(hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=4).digest(), "big",
                          signed=True)


async def lock_messages(ctx: Context, session: AsyncSession, *conversation_ids: str) -> None:
    """Take the per-conversation message lock (PostgreSQL; held until the transaction ends).

    Call it after the transaction's last other change and before its first message: it
    flushes the session first, so it is the last lock taken (see the module docstring for
    why that rules out deadlocks). Several conversations: locked in ascending key order.
    SQLite needs no lock (its one writer already runs write transactions one at a time), but
    the conversations are recorded on both, so a message added without this call fails in
    the SQLite tests too (``require_message_lock``)."""
    if not session.in_transaction():  # the record below belongs to a transaction: start it
        await session.connection()
    if ctx.postgres:
        await session.flush()
        for key in sorted({message_lock_key(c) for c in conversation_ids}):
            await session.execute(_LOCK_MESSAGES, {"namespace": MESSAGE_LOCK_NAMESPACE, "key": key})
    _locked_conversations(session).update(conversation_ids)


def lock_messages_sync(postgres: bool, connection: Connection, *conversation_ids: str) -> None:
    """``lock_messages`` for a sync Core connection in a transaction (``Context.run_transaction``):
    same lock, same order, same record. Core has nothing pending to flush."""
    if postgres:
        for key in sorted({message_lock_key(c) for c in conversation_ids}):
            connection.execute(_LOCK_MESSAGES, {"namespace": MESSAGE_LOCK_NAMESPACE, "key": key})
    _locked_conversations(connection).update(conversation_ids)


class MessageLockMissing(RuntimeError):
    """A programming error: a message was about to be inserted without ``lock_messages``."""


# session.info key: (the root transaction the locks belong to, the conversation ids locked in it).
_LOCKED_KEY = "kefu.message_locks"


def _root_transaction(holder: AsyncSession | Connection) -> Any:
    """The transaction a session or a sync connection is in now (None: none)."""
    if isinstance(holder, Connection):
        return holder.get_transaction()
    return holder.sync_session.get_transaction()


def _locked_conversations(holder: AsyncSession | Connection) -> set[str]:
    """The conversations whose message lock the current transaction of a session (or a sync
    connection) holds.

    Recorded in ``info`` together with the root transaction: a record left by an earlier
    transaction (its advisory locks released by its commit or rollback) counts for nothing.
    ``ctx.transaction()`` opens a fresh session each time anyway; a connection's ``info``
    outlives its checkouts, which is why the transaction is compared, by identity."""
    transaction = _root_transaction(holder)
    held = holder.info.get(_LOCKED_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        holder.info[_LOCKED_KEY] = held
    return held[1]


def require_message_lock(session: AsyncSession | Connection, conversation_id: str) -> None:
    """Raise ``MessageLockMissing`` unless this transaction took the conversation's message lock.

    Every message insert goes through here (``add_message``, ``execute_message_insert``,
    ``insert_message_sync``)."""
    if _root_transaction(session) is None or conversation_id not in _locked_conversations(session):
        raise MessageLockMissing(
            f"message for conversation {conversation_id!r} inserted without lock_messages() in this "
            "transaction (handoff/conversations.py: call it after the last other write, before the insert)")


async def execute_message_insert(session: AsyncSession, conversation_id: str, statement: Any,
                                 params: dict[str, Any]) -> Any:
    """Run a prebuilt message INSERT (the relay's hot path) into ``conversation_id``, after the
    same lock check as ``add_message``; returns the result."""
    require_message_lock(session, conversation_id)
    return await session.execute(statement, params)


def insert_message_sync(connection: Connection, conversation_id: str, statement: Any,
                        params: dict[str, Any]) -> Any:
    """``execute_message_insert`` on a sync Core connection (``Context.run_transaction``)."""
    require_message_lock(connection, conversation_id)
    return connection.execute(statement, params)


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
    """Stage a message in ``session`` (it is stored when the transaction commits).

    The transaction must hold the conversation's message lock (``lock_messages``); raises
    ``MessageLockMissing`` otherwise."""
    assert sender in SENDERS, sender
    require_message_lock(session, conversation_id)
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
        await lock_messages(ctx, session, conversation_id)
        previous = await last_message_id(session, conversation_id)
        message = add_message(session, conversation_id, sender, text, ctx.now(), **kwargs)
        await session.flush()
        data = message_json(message)
    await ctx.message_added(data, previous)
    return data


async def last_message_id(session: AsyncSession, conversation_id: str) -> int:
    """Read inside a write transaction just before adding a message, after ``lock_messages``:
    the id of the message before it (0: none), sent along with the new one so a socket can
    tell whether it missed one (handoff/live.py)."""
    stmt = select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
    return int((await session.execute(stmt)).scalar() or 0)


async def messages_after(ctx: Context, conversation_id: str, after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Messages with id > ``after_id``, oldest first (how clients resume)."""
    rows = await ctx.run_read(lambda connection: connection.execute(
        _MESSAGES_AFTER, {"c": conversation_id, "after": after_id, "limit": limit}).all())
    return [message_json(m) for m in rows]


def message_json(message: Message | Row) -> dict[str, Any]:
    """A stored message (an ORM object, or a row with the same columns) as clients get it."""
    return message_dict(message.id, message.conversation_id, message.sender, message.text, message.created_at,
                        agent_id=message.agent_id, agent_name=message.agent_name, extra=loads(message.extra, None))


def message_dict(message_id: int, conversation_id: str, sender: str, text: str, created_at: float, *,
                 agent_id: int | None = None, agent_name: str | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message as clients get it (``message_json`` of a stored row), built from its values: the
    relay announces what it just inserted without building an ORM object or re-reading it."""
    data: dict[str, Any] = {
        "id": message_id,
        "conversation_id": conversation_id,
        "sender": sender,
        "text": text,
        "created_at": created_at,
    }
    if agent_name:
        data["agent_name"] = agent_name
    if agent_id is not None:
        data["agent_id"] = agent_id
    if extra:
        data["extra"] = extra
    return data
