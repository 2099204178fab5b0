"""The resources every part of the service shares, bundled for plain functions."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, AsyncIterator, Callable, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import sessionmaker
from sqlalchemy.util import greenlet_spawn

from .bus import Bus
from .config import Settings
from .rasa_client import RasaClient

T = TypeVar("T")


@dataclass
class Context:
    """``sessions`` read, ``transaction()`` writes. ``writer``: the engine write transactions
    run on (SQLite: its one writer connection, see handoff/db.py); None = ``engine``."""

    settings: Settings
    engine: AsyncEngine
    sessions: sessionmaker
    bus: Bus
    rasa: RasaClient
    postgres: bool
    clock: Callable[[], float] = time.time
    writer: AsyncEngine | None = None
    _conv_locks: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    _write_sessions: sessionmaker | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.writer is None or self.writer is self.engine:
            self._write_sessions = self.sessions
        else:
            self._write_sessions = sessionmaker(self.writer, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction: committed on exit, rolled back on an error.

        Keep it short and never open another transaction inside it: on SQLite every
        write transaction of the process waits for this one.
        """
        async with self._write_sessions() as session, session.begin():  # type: ignore[misc]
            yield session

    async def run_transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` in one write transaction (committed on return, rolled back on an
        error) on the same engine as ``transaction()``, as plain Core on a sync connection.

        For the relay's hot path: the whole transaction (checkout, BEGIN, statements, commit,
        check-in) runs in one greenlet, where an AsyncSession spawns one per call and adds the
        ORM's session and unit of work; on a busy machine that was most of the service's CPU per
        message (docs/benchmarks.md, relay overhead). ``work`` must not await: it runs statements
        with ``connection.execute`` (the async driver is awaited underneath)."""
        return await greenlet_spawn(_in_transaction, (self.writer or self.engine).sync_engine, work)

    async def run_read(self, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` on a read connection (``sessions()``'s engine; SQLite: a read-only
        one), plain Core in one greenlet, like ``run_transaction``: for the reads every shopper
        connection makes (token check, state, messages since the last one seen)."""
        return await greenlet_spawn(_on_connection, self.engine.sync_engine, work)

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        await self.engine.dispose()
        if self.writer is not None and self.writer is not self.engine:
            await self.writer.dispose()

    @property
    def policy(self) -> dict[str, Any]:
        return self.settings.policy

    def now(self) -> float:
        return self.clock()

    def conversation_lock(self, conversation_id: str) -> asyncio.Lock:
        """Serializes one conversation's shopper turns within this instance."""
        return self._conv_locks[conversation_id]

    async def conversation_changed(self, conversation_id: str) -> None:
        """The conversation's state or ticket changed: its sockets re-read messages and state."""
        await self.bus.publish({"t": "conv", "c": conversation_id})

    async def message_added(self, message: dict[str, Any], previous_id: int) -> None:
        """One new message (after commit): sent as is to the sockets following its conversation."""
        await self.bus.publish({"t": "msg", "c": message["conversation_id"], "m": message, "p": previous_id})

    async def queue_changed(self) -> None:
        await self.bus.publish({"t": "queue"})

    async def tell_agent(self, agent_id: int, event: dict[str, Any]) -> None:
        await self.bus.publish({"t": "agent", "a": agent_id, "e": event})


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as connection:
        return work(connection)


def _on_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        return work(connection)


_SQL_CACHE: dict[str, str] = {}


def load_sql(name: str) -> str:
    """Text of handoff/sql/<name>.sql without comment lines (cached)."""
    if name not in _SQL_CACHE:
        raw = resources.files("handoff").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
        # Comments go: text() would read ":name" in them as bind parameters.
        _SQL_CACHE[name] = "\n".join(line for line in raw.splitlines() if not line.lstrip().startswith("--"))
    return _SQL_CACHE[name]
