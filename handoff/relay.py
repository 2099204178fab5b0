"""A shopper's turn: store it, then pass it to the bot or leave it for the agent.

While the conversation is ``bot`` the text goes to Rasa's REST channel with
the conversation id as sender; Rasa's ``action_handoff`` may create a ticket
during that very call, which turns the conversation ``queued``. From then on
the shopper's messages are stored for the agent and never sent to Rasa.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Connection

from .context import Context
from .conversations import insert_message_sync, lock_messages_sync, message_dict, store_message
from .drain import IN_FLIGHT
from .errors import HandoffError
from .models import Conversation, Ticket, dumps
from .rasa_client import BotUnavailable
from .tickets import TicketRequest, create_ticket, queue_place, resume_bot

log = logging.getLogger(__name__)

# When the bot is down, these words still reach a human.
_WANTS_HUMAN = re.compile(r"人工|真人|客服|转接|human|agent", re.IGNORECASE)

BOT_DOWN_TEXT = ("抱歉亲，智能客服小美暂时开小差了，您的消息已经保存。"
                 "需要的话可以点击下方「转人工客服」，由人工客服为您处理~")
# The bot is up but slow, or answered nothing (Rasa stays silent when the
# action server is down or failing: it logs the error and replies []).
BOT_SLOW_TEXT = ("抱歉亲，小美这边查询有点慢，请稍后再试一下；"
                 "着急的话可以点击下方「转人工客服」，由人工客服为您处理~")
HUMAN_BUTTON = {"title": "转人工客服", "action": "request_human"}

# Bot calls still running after the shopper got the "slow" note (their late
# replies are relayed when they come); kept so they are not garbage-collected.
_LATE_CALLS: set[asyncio.Future] = set()


async def shopper_says(ctx: Context, conversation_id: str, text: str, payload: str | None = None) -> dict[str, Any]:
    """Handle one shopper message; returns the stored message.

    Counted in IN_FLIGHT from the start: a draining restart must wait for it, since its bot
    turn may post a ticket back to this service."""
    with IN_FLIGHT:
        async with ctx.conversation_lock(conversation_id):
            stored, state, needs_resume = await _store_shopper_message(ctx, conversation_id, text)
            if state == "bot":
                await _ask_bot(ctx, conversation_id, needs_resume, payload or text)
            return stored


# The hot path's statements, built once (building them per message cost as much as running them),
# the same on SQLite and PostgreSQL. Where the conversation stands: (state, needs_resume, assigned
# ticket whose silence clock is not running).
_CLOCK_NOT_RUNNING = select(Ticket.id).where(
    Ticket.conversation_id == bindparam("c"), Ticket.status == "assigned",
    Ticket.awaiting_agent_since.is_(None)).limit(1).scalar_subquery()
_WHERE_IT_STANDS = (
    select(Conversation.state, Conversation.needs_resume, _CLOCK_NOT_RUNNING)
    .where(Conversation.id == bindparam("c"))
)
_START_SILENCE_CLOCK = update(Ticket).where(Ticket.id == bindparam("ticket_id")).values(awaiting_agent_since=bindparam("now"))
# The insert returns the new id and the id of the conversation's message before it, read after the
# message lock (handoff/conversations.py) by the insert itself: no statement of its own. Its
# RETURNING subquery does not see the row being inserted on PostgreSQL, may on SQLite;
# ``< messages.id`` makes both the same.
_INSERT_MESSAGE = text(
    "INSERT INTO messages (conversation_id, sender, text, extra, created_at) VALUES (:c, :sender, :text, :extra, :now) "
    "RETURNING id, (SELECT max(m.id) FROM messages m WHERE m.conversation_id = :c AND m.id < messages.id)")


async def _store_shopper_message(ctx: Context, conversation_id: str, text: str) -> tuple[dict[str, Any], str, bool]:
    """One short write per shopper message, the hot path of a busy day: read where the
    conversation stands (and whether an agent's silence clock must start) in one statement,
    start the clock only if it is not running, take the message lock (the last lock, see
    handoff/conversations.py), insert the message; then announce the message itself.
    Returns (message, state, needs_resume)."""
    now = ctx.now()
    postgres = ctx.postgres

    def work(connection: Connection) -> tuple[int, int | None, str, bool]:
        row = connection.execute(_WHERE_IT_STANDS, {"c": conversation_id}).first()
        if row is None:
            raise HandoffError("not_found", "No such conversation.", 404)
        state, needs_resume, start_clock_of = row
        if state == "assigned" and start_clock_of is not None:
            connection.execute(_START_SILENCE_CLOCK, {"ticket_id": start_clock_of, "now": now})
        lock_messages_sync(postgres, connection, conversation_id)  # SQLite: only recorded for the check
        message_id, previous = insert_message_sync(connection, conversation_id, _INSERT_MESSAGE, {
            "c": conversation_id, "sender": "shopper", "text": text, "extra": None, "now": now}).one()
        return message_id, previous, state, bool(needs_resume)

    message_id, previous, state, needs_resume = await ctx.run_transaction(work)
    stored = message_dict(message_id, conversation_id, "shopper", text, now)
    await ctx.message_added(stored, int(previous or 0))
    return stored, state, needs_resume


async def _store_bot_replies(ctx: Context, conversation_id: str,
                             replies: list[tuple[str, dict[str, Any] | None]]) -> None:
    """The bot's replies to one turn in one short write (the message lock, an insert each), then
    announced in order."""
    now = ctx.now()
    postgres = ctx.postgres

    def work(connection: Connection) -> list[tuple[int, int | None]]:
        lock_messages_sync(postgres, connection, conversation_id)
        return [tuple(insert_message_sync(connection, conversation_id, _INSERT_MESSAGE, {
            "c": conversation_id, "sender": "bot", "text": body, "extra": dumps(extra) if extra else None,
            "now": now}).one()) for body, extra in replies]

    for (message_id, previous), (body, extra) in zip(await ctx.run_transaction(work), replies):
        await ctx.message_added(message_dict(message_id, conversation_id, "bot", body, now, extra=extra),
                                int(previous or 0))


async def _ask_bot(ctx: Context, conversation_id: str, needs_resume: bool, text: str) -> None:
    if needs_resume:
        await resume_bot(ctx, conversation_id)
    wait = float(ctx.settings.limits["bot_reply_timeout_seconds"])
    call = asyncio.ensure_future(_counted_bot_call(ctx, conversation_id, text))
    try:
        replies = await asyncio.wait_for(asyncio.shield(call), wait)
    except asyncio.TimeoutError:
        log.warning("bot slow for %s: no answer within %.0f s", conversation_id, wait)
        await _bot_slow_note(ctx, conversation_id, "bot_slow")
        _LATE_CALLS.add(call)
        call.add_done_callback(_retrieve_error)
        call.add_done_callback(
            lambda done: _LATE_CALLS.add(asyncio.ensure_future(_late_replies(ctx, conversation_id, done))))
        return
    except BotUnavailable as error:
        log.warning("bot unavailable for %s: %s", conversation_id, error)
        if _WANTS_HUMAN.search(text):
            await request_human(ctx, conversation_id, reason="bot_unavailable")
            return
        await store_message(ctx, conversation_id, "system", BOT_DOWN_TEXT,
                            extra={"event": "bot_unavailable", "buttons": [HUMAN_BUTTON]})
        return
    if not await _relay_replies(ctx, conversation_id, replies) and await _still_with_bot(ctx, conversation_id):
        log.warning("bot gave no answer for %s", conversation_id)
        await _bot_slow_note(ctx, conversation_id, "bot_silent")


async def _counted_bot_call(ctx: Context, conversation_id: str, text: str) -> list[dict[str, Any]]:
    """A bot turn, counted so a draining restart waits for it (it may be posting a ticket to us)."""
    with IN_FLIGHT:
        return await ctx.rasa.send(conversation_id, text)


def _retrieve_error(call: asyncio.Future) -> None:
    """A late call that failed (e.g. the bot went away) is logged here, not as 'never retrieved'."""
    if not call.cancelled() and call.exception() is not None:
        log.info("late bot call failed: %s", call.exception())


async def _bot_slow_note(ctx: Context, conversation_id: str, event: str) -> None:
    await store_message(ctx, conversation_id, "system", BOT_SLOW_TEXT,
                        extra={"event": event, "buttons": [HUMAN_BUTTON]})


async def _still_with_bot(ctx: Context, conversation_id: str) -> bool:
    """False when the bot's own call handed the conversation over (its silence is then expected)."""
    async with ctx.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
    return conv is not None and conv.state == "bot"


async def _late_replies(ctx: Context, conversation_id: str, call: asyncio.Future) -> None:
    """Relay what a slow bot finally said, so the conversation simply continues."""
    _LATE_CALLS.discard(call)
    try:
        if call.cancelled() or call.exception() is not None:
            return
        await _relay_replies(ctx, conversation_id, call.result())
    except Exception:  # e.g. the service is shutting down; the shopper already got the note
        log.exception("could not relay the late bot reply for %s", conversation_id)
    finally:
        _LATE_CALLS.discard(asyncio.current_task())  # type: ignore[arg-type]


async def _relay_replies(ctx: Context, conversation_id: str, replies: list[dict[str, Any]]) -> bool:
    """Store and announce the bot's replies (in one transaction); False if there was nothing to show."""
    shown: list[tuple[str, dict[str, Any] | None]] = []
    for reply in replies:
        extra: dict[str, Any] = {}
        if isinstance(reply.get("buttons"), list):
            extra["buttons"] = [
                {"title": str(b.get("title", ""))[:60], "payload": str(b.get("payload", ""))[:200]}
                for b in reply["buttons"] if isinstance(b, dict)
            ]
        if reply.get("image"):
            extra["image"] = str(reply["image"])[:500]
        body = str(reply.get("text") or "")
        if not body and not extra:
            continue
        shown.append((body, extra or None))
    if shown:
        await _store_bot_replies(ctx, conversation_id, shown)
    return bool(shown)


async def request_human(ctx: Context, conversation_id: str, reason: str = "bot_unavailable") -> dict[str, Any] | None:
    """The service hands over by itself (the bot cannot): ticket + a note for the shopper."""
    from .models import Message
    from sqlalchemy import select

    async with ctx.sessions() as session:
        rows = (await session.execute(
            select(Message.text).where(Message.conversation_id == conversation_id, Message.sender == "shopper")
            .order_by(Message.id.desc()).limit(3)
        )).scalars().all()
    summary = {"note": "智能客服不可用，由系统直接转人工", "last_text": rows[0] if rows else None,
               "recent_texts": list(reversed(rows)), "intents": [], "entities": [], "slots": {}}
    _, created = await create_ticket(ctx, TicketRequest(conversation_id=conversation_id, reason=reason, summary=summary))
    place = await queue_place(ctx, conversation_id)
    if created and place and place.get("status") == "queued":
        if place.get("estimated_wait_seconds") is None:
            note = "已为您转接人工客服。当前客服都不在线，您可以直接留言，客服上线后会第一时间回复您~"
        else:
            minutes = max(1, round(place["estimated_wait_seconds"] / 60))
            note = f"已为您转接人工客服，您前面还有{place['queue_position'] - 1}位，预计等待约{minutes}分钟，请稍候~"
        await store_message(ctx, conversation_id, "system", note, extra={"event": "queued"})
    return place
