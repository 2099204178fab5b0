"""Database engines: URL conversion, SQLite pragmas and write transactions.

Code reads with ``ctx.sessions()`` and writes with ``ctx.transaction()``
(handoff/context.py). On SQLite the two go to different engines: reads to
read-only connections (WAL lets them run beside the writer), writes to one
writer connection, one transaction at a time, each ``BEGIN IMMEDIATE``. That
makes the claim atomic on a single instance, and since a read transaction never
writes, nothing ever has to upgrade a read lock to a write lock (the
SQLITE_BUSY that WAL mode cannot wait out). PostgreSQL keeps READ COMMITTED on
one engine; the claim relies on FOR UPDATE SKIP LOCKED, and the messages of one
conversation are written one transaction at a time under a per-conversation advisory
lock, taken last (``lock_messages`` in handoff/conversations.py, which gives the lock order).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

from .models import Base
from .sqlite_driver import one_trip_dbapi

# SQLite: read connections kept open (each is a thread in aiosqlite), and how long a write
# transaction may wait for the writer before the request gets a 503.
SQLITE_READERS = 4
SQLITE_WRITE_WAIT_SECONDS = 30.0
# PostgreSQL: connections kept open, all of them (no overflow). SQLAlchemy closes an overflow
# connection as soon as it is returned while the pool is full, so with 10 + 20 overflow every
# burst above 10 concurrent transactions opened and closed connections: 333 in one relay bench
# run, ~60 ms each (a backend fork, asyncpg's setup, SQLAlchemy's type codecs), and a message
# that waited for one waited that long (docs/benchmarks.md, relay). The same 30 at most, now opened once.
POSTGRES_POOL_SIZE = 30

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``; postgres → asyncpg. Others unchanged."""
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    return str(parsed.render_as_string(hide_password=False))


def plain_postgres_dsn(url: str) -> str:
    """A libpq-style DSN for asyncpg.connect (used by LISTEN/NOTIFY)."""
    parsed = make_url(url).set(drivername="postgresql")
    return str(parsed.render_as_string(hide_password=False))


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def make_engines(url: str) -> tuple[AsyncEngine, AsyncEngine]:
    """(engine for reads, engine for write transactions).

    PostgreSQL: one pooled engine for both (row locks and SKIP LOCKED do the rest), its
    connections opened on demand and kept (``POSTGRES_POOL_SIZE``).
    SQLite file: a small pool of read-only connections that read in parallel (WAL) and
    one pooled writer connection. Write transactions wait for that connection in an
    asyncio queue, in order, instead of polling SQLite's file lock from 200 threads
    (the old one-connection-per-session NullPool); the writer starts every
    transaction with BEGIN IMMEDIATE, so another process writing (``handoff.seed``)
    is waited for up front, never in the middle of a transaction. Statements make one
    trip to the driver's thread each (handoff/sqlite_driver.py).
    """
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(parsed, pool_size=POSTGRES_POOL_SIZE, max_overflow=0, pool_pre_ping=True)
        _ping_survives_killed_backends(engine)
        return engine, engine
    database = parsed.database
    if not database or database == ":memory:":  # one connection is the whole database
        engine = create_async_engine(parsed, module=one_trip_dbapi())
        _sqlite_pragmas(engine, begin="BEGIN IMMEDIATE")
        return engine, engine
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    writer = create_async_engine(parsed, connect_args={"timeout": 30}, module=one_trip_dbapi(),
                                 poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0,
                                 pool_timeout=SQLITE_WRITE_WAIT_SECONDS)
    _sqlite_pragmas(writer, begin="BEGIN IMMEDIATE")
    readers = create_async_engine(parsed, connect_args={"timeout": 30}, module=one_trip_dbapi(),
                                  poolclass=AsyncAdaptedQueuePool, pool_size=SQLITE_READERS, max_overflow=SQLITE_READERS)
    _sqlite_pragmas(readers, begin="BEGIN", read_only=True)
    return readers, writer


def _ping_survives_killed_backends(engine: AsyncEngine) -> None:
    """Make pool_pre_ping replace connections whose backend PostgreSQL terminated.

    asyncpg reports such a connection as ``InternalClientError: cannot switch to
    state 15``, which SQLAlchemy 1.4 does not count as a disconnect, so the ping
    raised instead of reconnecting (sqlalchemy issue 13241, asyncpg issue 1069).
    """
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping

    def do_ping(dbapi_connection) -> bool:
        try:
            return ping(dbapi_connection)
        except Exception as error:
            if type(error).__name__ in ("InternalClientError", "ConnectionDoesNotExistError") \
                    or isinstance(error, (ConnectionError, OSError)):
                return False  # the pool drops this connection and opens a fresh one
            raise

    dialect.do_ping = do_ping


def _sqlite_pragmas(engine: AsyncEngine, begin: str, read_only: bool = False) -> None:
    """WAL, fsync only at checkpoints, foreign keys; transactions started by us with ``begin``."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL stays durable against application crashes and only
        # syncs at checkpoints: ~0.03 ms per commit here instead of ~2.3 ms (FULL).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_only:  # a write through a read session is a bug: fail loudly
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:  # pragma: no cover - driver hook
        # Sent with the transaction's first statement, in the same trip (handoff/sqlite_driver.py).
        conn.connection.dbapi_connection.begin_lazily(begin)


def session_factory(engine: AsyncEngine) -> sessionmaker:
    return sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def create_tables(engine: AsyncEngine) -> None:
    """Create missing tables (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
