"""SQLite under concurrent agents: one writer connection, read-only readers, no 503.

The service used to open one SQLite connection per session (SQLAlchemy 1.4's NullPool for
aiosqlite) and start every transaction, reads included, with BEGIN IMMEDIATE: at 200
agents the connections polled the file lock and requests failed with 503 after 30 s.
"""
from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from handoff.agents import upsert_agent
from handoff.db import SQLITE_READERS
from handoff.tickets import TicketRequest, create_ticket

from .conftest import auth, login

SKILLS = ["logistics", "returns", "usage", "orders", "complaints"]


def count_connections(ctx) -> list[int]:
    """A one-item list counting the SQLite connections the service opens from now on."""
    opened = [0]

    def on_connect(*_args) -> None:
        opened[0] += 1

    for engine in {ctx.engine, ctx.writer}:
        event.listen(engine.sync_engine, "connect", on_connect)
    return opened


async def test_concurrent_claims_and_resolves_each_ticket_once_without_errors(service_factory):
    service = await service_factory(real_time=True)
    ctx, client = service.ctx, service.client
    agents_n, tickets_n = 16, 160
    for i in range(agents_n):
        await upsert_agent(ctx, f"sq{i}", "pw", f"坐席{i}", SKILLS, capacity=tickets_n)
    for i in range(tickets_n):
        await create_ticket(ctx, TicketRequest(conversation_id=f"sq-conv-{i}", reason="complaint", skill=SKILLS[i % 5]))
    agents = [await login(client, f"sq{i}", "pw") for i in range(agents_n)]
    opened = count_connections(ctx)

    async def work(headers) -> list[int]:
        """Claim until the queue is empty; resolve every other ticket (more write transactions)."""
        got: list[int] = []
        while True:
            resp = await client.post("/api/agent/claim", headers=auth(headers))
            assert resp.status == 200, await resp.text()  # never 503 "database is locked"
            ticket = (await resp.json())["ticket"]
            if ticket is None:
                return got
            got.append(ticket["ticket_id"])
            if len(got) % 2:
                resp = await client.post(f"/api/conversations/{ticket['conversation_id']}/resolve", headers=auth(headers))
                assert resp.status == 200, await resp.text()

    results = await asyncio.gather(*(work(h) for h in agents))
    claimed = [t for r in results for t in r]
    assert len(claimed) == tickets_n and len(set(claimed)) == tickets_n
    assert sum(1 for r in results if r) >= agents_n // 2  # the work really was shared
    async with ctx.sessions() as session:
        owners = dict((await session.execute(text("SELECT id, agent_id FROM tickets"))).all())
        statuses = dict((await session.execute(text("SELECT status, count(*) FROM tickets GROUP BY status"))).all())
    for headers, ids in zip(agents, results):
        assert all(owners[t] == headers["id"] for t in ids)
    assert statuses == {"assigned": tickets_n - statuses.get("resolved", 0), "resolved": statuses["resolved"]}
    # Pooled: hundreds of transactions, a handful of connections (the writer and the readers).
    assert opened[0] <= 1 + 2 * SQLITE_READERS


async def test_read_sessions_cannot_write(service):
    """Writes go through ctx.transaction(); a write slipped into a read session fails loudly."""
    async with service.ctx.sessions() as session:
        with pytest.raises(OperationalError, match="readonly"):
            await session.execute(text("UPDATE agents SET capacity = 9"))
    async with service.ctx.transaction() as session:
        await session.execute(text("UPDATE agents SET capacity = 9 WHERE username = 'logi1'"))


async def test_claim_waits_for_another_process_holding_the_write_lock(service_factory, tmp_path):
    """BEGIN IMMEDIATE + busy_timeout: the claim waits its turn, reads go on, nothing fails."""
    db = tmp_path / "locked.db"
    service = await service_factory(db_url=f"sqlite:///{db}", real_time=True)
    client = service.client
    await create_ticket(service.ctx, TicketRequest(conversation_id="locked-conv", reason="complaint", skill="logistics"))
    agent = await login(client, "logi1")

    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. `python -m handoff.seed` writing
    try:
        claim = asyncio.ensure_future(client.post("/api/agent/claim", headers=auth(agent)))
        await asyncio.sleep(0.6)
        assert not claim.done()
        queue = await client.get("/api/queue", headers=auth(agent))  # readers are not blocked
        assert queue.status == 200 and len((await queue.json())["queue"]) == 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    resp = await claim
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["ticket"]["conversation_id"] == "locked-conv"


async def test_a_statement_is_one_trip_to_the_driver_thread(service, monkeypatch):
    """handoff/sqlite_driver.py: SQLAlchemy 1.4's own aiosqlite adapter makes 3-4 per statement, and
    on a busy machine each trip (two context switches) costs more than SQLite itself."""
    trips = _count_trips(monkeypatch)
    async with service.ctx.transaction() as session:
        await session.execute(text("SELECT 1"))  # the transaction has begun
        trips.clear()
        rows = (await session.execute(text("SELECT username FROM agents ORDER BY id"))).scalars().all()
        result = await session.execute(text("UPDATE agents SET capacity = capacity + 1 WHERE username LIKE 'logi%'"))
        assert len(trips) == 2
    assert rows == ["logi1", "logi2", "ret1"] and result.rowcount == 2


def _count_trips(monkeypatch) -> list[str]:
    import aiosqlite

    trips: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return trips


async def test_a_write_transaction_of_two_statements_is_three_trips(service, monkeypatch):
    """BEGIN IMMEDIATE travels with the first statement, and the pool's rollback of the connection it
    gets back after the commit makes no trip (it was BEGIN, 2 statements, COMMIT, ROLLBACK: 5)."""
    async with service.ctx.transaction() as session:  # the writer connection is open and pooled
        await session.execute(text("SELECT 1"))
    trips = _count_trips(monkeypatch)
    async with service.ctx.transaction() as session:
        await session.execute(text("SELECT count(*) FROM agents"))
        await session.execute(text("UPDATE agents SET capacity = capacity + 1 WHERE username = 'logi1'"))
    assert len(trips) == 3, trips
    trips.clear()
    await service.ctx.run_transaction(lambda connection: connection.execute(text("SELECT 1")).scalar())
    assert len(trips) == 2, trips


async def test_a_failed_write_transaction_is_still_rolled_back(service):
    """The rollback is skipped only when SQLite has no transaction open; a write is undone."""
    ctx = service.ctx

    async def capacity() -> int:
        async with ctx.sessions() as session:
            return int((await session.execute(text("SELECT capacity FROM agents WHERE username = 'logi1'"))).scalar())

    before = await capacity()
    with pytest.raises(RuntimeError):
        async with ctx.transaction() as session:
            await session.execute(text("UPDATE agents SET capacity = capacity + 5 WHERE username = 'logi1'"))
            raise RuntimeError("fails after a write")

    def fails(connection) -> None:
        connection.execute(text("UPDATE agents SET capacity = capacity + 7 WHERE username = 'logi1'"))
        raise RuntimeError("fails after a write")

    with pytest.raises(RuntimeError):
        await ctx.run_transaction(fails)
    assert await capacity() == before
    async with ctx.transaction() as session:  # and the writer is usable (no transaction left open)
        await session.execute(text("UPDATE agents SET capacity = capacity + 1 WHERE username = 'logi1'"))
    assert await capacity() == before + 1


async def test_a_streamed_result_runs_inside_the_transaction(service):
    """SQLAlchemy creates a server-side cursor before it begins the transaction: the pending BEGIN
    must still go first (else the statement would run outside any transaction)."""
    async with service.ctx.writer.connect() as connection:
        result = await connection.stream(text("SELECT username FROM agents ORDER BY id"))
        assert [row[0] async for row in result] == ["logi1", "logi2", "ret1"]
        sqlite_connection = connection.sync_connection.connection.dbapi_connection._connection._conn
        assert sqlite_connection.in_transaction
        await connection.rollback()
        assert not sqlite_connection.in_transaction
