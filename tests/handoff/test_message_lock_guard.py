"""No message is inserted without its conversation's message lock (handoff/conversations.py).

On PostgreSQL a missing ``lock_messages`` lets message ids commit out of order; nothing fails
at once, a socket just drops a message later. So ``add_message`` and the relay's prebuilt
INSERT refuse to run without the lock, on SQLite too, where these tests run by default.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from handoff.conversations import (MessageLockMissing, add_message, execute_message_insert, insert_message_sync,
                                   lock_messages, lock_messages_sync, messages_after)
from handoff.models import Message
from handoff.relay import _INSERT_MESSAGE, shopper_says

from .conftest import new_conversation


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def service(request, service_factory):
    if request.param == "sqlite":
        return await service_factory()
    return await service_factory(db_url=request.getfixturevalue("postgres_url"))


async def _count(ctx, conversation_id: str) -> int:
    async with ctx.sessions() as session:
        return int((await session.execute(
            select(func.count()).where(Message.conversation_id == conversation_id))).scalar())


async def test_adding_a_message_without_the_lock_fails_and_stores_nothing(service):
    ctx = service.ctx
    conv, _token = await new_conversation(service.client)
    with pytest.raises(MessageLockMissing, match="lock_messages"):
        async with ctx.transaction() as session:
            add_message(session, conv, "system", "没有锁的消息", ctx.now())
    assert await _count(ctx, conv) == 0


async def test_the_lock_of_one_conversation_does_not_cover_another(service):
    ctx = service.ctx
    locked, _ = await new_conversation(service.client)
    other, _ = await new_conversation(service.client)
    with pytest.raises(MessageLockMissing):
        async with ctx.transaction() as session:
            await lock_messages(ctx, session, locked)
            add_message(session, locked, "system", "有锁", ctx.now())
            add_message(session, other, "system", "没锁", ctx.now())
    assert await _count(ctx, locked) == 0 and await _count(ctx, other) == 0


async def test_adding_a_message_after_the_lock_works(service):
    ctx = service.ctx
    conv, _token = await new_conversation(service.client)
    async with ctx.transaction() as session:
        await lock_messages(ctx, session, conv)
        add_message(session, conv, "system", "第一条", ctx.now())
        add_message(session, conv, "bot", "第二条", ctx.now())
    assert [m["text"] for m in await messages_after(ctx, conv)] == ["第一条", "第二条"]


async def test_a_lock_ends_with_its_transaction(service):
    """The record lives in session.info; a later transaction of the same session must lock again."""
    ctx = service.ctx
    conv, _token = await new_conversation(service.client)
    async with ctx._write_sessions() as session:  # one session, two transactions
        async with session.begin():
            await lock_messages(ctx, session, conv)
            add_message(session, conv, "system", "第一次事务", ctx.now())
        with pytest.raises(MessageLockMissing):
            async with session.begin():
                add_message(session, conv, "system", "第二次事务", ctx.now())
    assert [m["text"] for m in await messages_after(ctx, conv)] == ["第一次事务"]


async def test_the_relays_raw_insert_is_checked_too(service):
    ctx = service.ctx
    conv, _token = await new_conversation(service.client)
    values = {"c": conv, "sender": "shopper", "text": "裸插入", "extra": None, "now": ctx.now()}
    with pytest.raises(MessageLockMissing):
        async with ctx.transaction() as session:
            await execute_message_insert(session, conv, _INSERT_MESSAGE, values)
    with pytest.raises(MessageLockMissing):  # the relay's own path: Core on a sync connection
        await ctx.run_transaction(lambda connection: insert_message_sync(connection, conv, _INSERT_MESSAGE, values))
    assert await _count(ctx, conv) == 0
    await shopper_says(ctx, conv, "正常发送")  # the relay takes the lock itself
    assert [m["text"] for m in await messages_after(ctx, conv)][:1] == ["正常发送"]


async def test_a_sync_lock_covers_its_own_transaction_only(service):
    """A connection's ``info`` outlives its checkout: the record must not carry over."""
    ctx = service.ctx
    conv, _token = await new_conversation(service.client)
    values = {"c": conv, "sender": "system", "text": "有锁", "extra": None, "now": ctx.now()}

    def locked(connection):
        lock_messages_sync(ctx.postgres, connection, conv)
        return insert_message_sync(connection, conv, _INSERT_MESSAGE, values).one()

    message_id, previous = await ctx.run_transaction(locked)
    assert previous is None
    with pytest.raises(MessageLockMissing):  # same pooled connection, next transaction: no lock
        await ctx.run_transaction(lambda connection: insert_message_sync(connection, conv, _INSERT_MESSAGE, values))
    second_id, previous = await ctx.run_transaction(locked)
    assert previous == message_id and second_id > message_id
    assert await _count(ctx, conv) == 2


def test_the_relay_reads_where_the_conversation_stands_without_scanning_its_messages():
    """The insert returns the previous id itself (after the message lock), on both databases."""
    from handoff.relay import _WHERE_IT_STANDS

    assert "messages" not in str(_WHERE_IT_STANDS) and "m.id < messages.id" in _INSERT_MESSAGE.text
