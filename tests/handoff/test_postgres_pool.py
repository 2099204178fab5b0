"""PostgreSQL connections are opened once and kept (handoff/db.py, POSTGRES_POOL_SIZE).

With 10 pooled + 20 overflow connections, SQLAlchemy closed every overflow connection when it
was returned, so each burst of writes opened new ones (~60 ms each): 333 in one relay bench
run, and the relay's p99 followed (docs/benchmarks.md). Bursts now reuse the same connections.
"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from handoff.conversations import store_message
from handoff.db import POSTGRES_POOL_SIZE

from .conftest import new_conversation

pytestmark = pytest.mark.postgres


async def test_bursts_of_writes_reuse_the_pooled_connections(service_factory, postgres_url):
    service = await service_factory(db_url=postgres_url, real_time=True)
    ctx = service.ctx
    opened: list[int] = []
    closed: list[int] = []
    event.listen(ctx.engine.sync_engine, "connect", lambda *_: opened.append(1))
    event.listen(ctx.engine.sync_engine, "close", lambda *_: closed.append(1))
    conversations = [(await new_conversation(service.client))[0] for _ in range(40)]
    for burst in range(3):  # 40 writers at once, more than the pool holds
        await asyncio.gather(*(store_message(ctx, c, "system", f"第{burst}轮") for c in conversations))
    assert closed == []
    assert len(opened) <= POSTGRES_POOL_SIZE
