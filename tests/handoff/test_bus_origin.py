"""An instance gets its own events at once, in-process, and exactly once; the others through
the channel (PostgreSQL LISTEN/NOTIFY, Redis pub/sub). Before, a shopper's bot answer on
PostgreSQL waited for its own NOTIFY to come back before reaching the shopper's socket."""
from __future__ import annotations

import asyncio

import pytest

from handoff.bus import PostgresBus, RedisBus
from handoff.db import plain_postgres_dsn


async def _received(bus_factory) -> tuple[list[dict], list[dict], list[dict]]:
    """(what the publisher had right after publish, what it had in the end, what the other got)."""
    mine: list[dict] = []
    other: list[dict] = []

    async def into(seen: list[dict]):
        async def handler(event: dict) -> None:
            seen.append(event)
        return handler

    first, second = bus_factory(), bus_factory()
    await first.start(await into(mine))
    await second.start(await into(other))
    try:
        await first.publish({"t": "queue"})
        await asyncio.sleep(0)  # the dispatch task runs; no round trip to the server needed
        at_once = list(mine)
        for _ in range(50):  # the copy through the channel comes back (and is dropped)
            if other:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        return at_once, mine, other
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_postgres_publisher_gets_its_event_at_once_and_once(postgres_url):
    at_once, mine, other = await _received(lambda: PostgresBus(plain_postgres_dsn(postgres_url)))
    assert at_once == [{"t": "queue"}] and mine == [{"t": "queue"}]
    assert [event["t"] for event in other] == ["queue"]


@pytest.mark.redis
async def test_redis_publisher_gets_its_event_at_once_and_once(redis_url):
    at_once, mine, other = await _received(lambda: RedisBus(redis_url))
    assert at_once == [{"t": "queue"}] and mine == [{"t": "queue"}]
    assert [event["t"] for event in other] == ["queue"]


@pytest.mark.postgres
async def test_postgres_notifies_a_burst_in_order_and_flushes_at_close(postgres_url):
    """NOTIFYs go out in the background, batched: all of them, in publishing order, and what was
    published just before ``close`` is still sent."""
    dsn = plain_postgres_dsn(postgres_url)
    first, second = PostgresBus(dsn), PostgresBus(dsn)
    got: list[int] = []

    async def ignore(_event: dict) -> None:
        pass

    async def collect(event: dict) -> None:
        got.append(event["n"])

    await first.start(ignore)
    await second.start(collect)
    try:
        for n in range(250):  # more than one batch
            await first.publish({"t": "queue", "n": n})
        for _ in range(100):
            if len(got) == 250:
                break
            await asyncio.sleep(0.05)
        assert got == list(range(250))
        for n in range(250, 260):
            await first.publish({"t": "queue", "n": n})
        await first.close()
        for _ in range(100):
            if len(got) == 260:
                break
            await asyncio.sleep(0.05)
        assert got == list(range(260))
    finally:
        await first.close()
        await second.close()
