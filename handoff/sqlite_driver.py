"""SQLite statements in one trip to aiosqlite's thread (SQLAlchemy 1.4's adapter makes 3-4).

aiosqlite runs each connection in its own thread. SQLAlchemy 1.4's aiosqlite adapter runs
every statement as four awaits on that thread (cursor, execute, fetchall, close), and each
await is a trip there and back: two context switches and a wait for the GIL and a free CPU.
On a busy machine those waits, not SQLite, made up most of a write transaction, and SQLite
has one writer at a time, so every write queued behind them. With 500 open chats the relay
measured ~70 context switches per shopper message with the stock adapter and ~19 with this
one (docs/benchmarks.md).

Here a statement is one function run on the connection's thread: create the cursor, execute,
fetch the rows, close. A transaction's BEGIN (handoff/db.py issues it, ``begin_lazily``) travels
with its first statement instead of making a trip of its own, and a commit or rollback with no
SQLite transaction open (SQLAlchemy's pool rolls back every connection it gets back, after the
commit too) makes no trip at all: a write transaction of two statements is three trips, not six.
Everything else (connect, commit, rollback, server-side cursors) is SQLAlchemy's adapter unchanged. It relies on two internals, so the versions are pinned in
requirements.in (SQLAlchemy 1.4.54, aiosqlite 0.22.1): SQLAlchemy's adapter classes, and
``aiosqlite.Connection._execute`` (queue a function for the connection's thread).
tests/handoff/test_sqlite_writes.py fails if a statement takes more than one trip.
"""
from __future__ import annotations

import sqlite3
from typing import Any, Sequence

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.util.concurrency import await_only

Outcome = tuple[Any, list[Any], int, int]  # description, rows, lastrowid, rowcount


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool, begin: str | None = None) -> Outcome:
    """On the connection's thread: the transaction's BEGIN if it is still to be sent, then the
    whole life of one cursor."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, parameters if parameters is not None else ())
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _one_trip(self, operation: str, parameters: Any, many: bool) -> None:
        try:
            connection: aiosqlite.Connection = self._connection
            begin = self._adapt_connection.take_pending_begin()
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection._conn, operation, parameters, many, begin))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
            return
        if description:  # what SQLAlchemy's cursor.execute leaves behind, minus the trips
            self.description = description
            self.lastrowid = self.rowcount = -1
            self._rows = rows
        else:
            self.description = None
            self.lastrowid = lastrowid
            self.rowcount = rowcount

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._one_trip(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._one_trip(operation, seq_of_parameters, many=True)


class _BeginFirstSSCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's server-side cursor (its own trips), after the pending BEGIN: SQLAlchemy creates
    the cursor before it begins the transaction, so the BEGIN is looked for at execute time."""

    __slots__ = ()

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._adapt_connection.send_pending_begin()
        super().execute(operation, parameters)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_pending_begin",)

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None

    def begin_lazily(self, statement: str) -> None:
        """Start a transaction with ``statement`` (BEGIN ...), sent along with the next statement."""
        self._pending_begin = statement

    def take_pending_begin(self) -> str | None:
        begin, self._pending_begin = self._pending_begin, None
        return begin

    def _in_transaction(self) -> bool:
        """Whether SQLite has a transaction open (read on this thread: nothing else runs on a
        connection its pool has lent out)."""
        return bool(self._connection._conn.in_transaction)

    def send_pending_begin(self) -> None:
        """BEGIN now, in a trip of its own, if it is still to be sent (server-side cursors)."""
        begin = self.take_pending_begin()
        if begin is not None:
            self.await_(self._connection._execute(_run, self._connection._conn, begin, None, False))

    def cursor(self, server_side: bool = False):
        if server_side:
            return _BeginFirstSSCursor(self)
        return _OneTripCursor(self)

    def commit(self) -> None:
        if self.take_pending_begin() is None and self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self.take_pending_begin() is None and self._in_transaction():
            super().rollback()


class _OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _OneTripConnection:
        kw.pop("async_fallback", None)
        kw["check_same_thread"] = False  # as SQLAlchemy's adapter: all use goes through the one thread
        connection = self.aiosqlite.connect(*arg, **kw)
        connection.daemon = True
        return _OneTripConnection(self, await_only(connection))


def one_trip_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The ``module=`` for ``create_async_engine("sqlite+aiosqlite://...")``."""
    return _OneTripDBAPI(aiosqlite, sqlite3)
