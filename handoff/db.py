"""Database engine: URL conversion, SQLite pragmas and write transactions.

SQLite runs every transaction as ``BEGIN IMMEDIATE`` (one writer at a time,
waiting up to 30 s), which makes the claim atomic on a single instance and
avoids the "upgrade a read transaction to a write" failures of WAL mode.
PostgreSQL keeps READ COMMITTED; the claim relies on FOR UPDATE SKIP LOCKED.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from .models import Base

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


def make_engine(url: str) -> AsyncEngine:
    """Create the async engine; for SQLite files make sure the folder exists."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, connect_args={"timeout": 30})
        _make_sqlite_single_writer(engine)
        return engine
    engine = create_async_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)
    _ping_survives_killed_backends(engine)
    return engine


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


def _make_sqlite_single_writer(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:  # pragma: no cover - driver hook
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> sessionmaker:
    return sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def create_tables(engine: AsyncEngine) -> None:
    """Create missing tables (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
