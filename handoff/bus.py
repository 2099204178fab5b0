"""Notifications between service instances.

Events are small JSON dicts that say *what changed*:

* ``{"t": "msg", "c": <conversation id>, "m": <message>, "p": <previous message id>}``
  — one new message, carried so sockets need not read it back (``m`` is
  left out when it would not fit in a NOTIFY payload);
* ``{"t": "conv", "c": <conversation id>}`` — the conversation's state or ticket changed;
* ``{"t": "queue"}`` — the waiting queue changed;
* ``{"t": "agent", "a": <agent id>, "e": {...}}`` — something for one agent
  (an offer, an offer that expired, a conversation taken away ...);
* ``{"t": "resync"}`` — sent locally after a reconnect: check everything.

Receivers send a carried message only to a client that got the message
before it (``p``); otherwise they read what is new from the database
(everything after the last message id each client has), so a lost or
duplicated notification never loses or duplicates a message. Every event also reaches the instance that
published it: at once, in-process, not after a trip through PostgreSQL or Redis (a shopper's
bot answer no longer waits for its NOTIFY to come back); the copy that comes back carries this
instance's ``o`` (origin) and is dropped.

Backends: in-process (SQLite, one instance), PostgreSQL LISTEN/NOTIFY, Redis
pub/sub (when KEFU_REDIS_URL is set).
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Protocol

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
CHANNEL = "kefu_handoff"


class Bus(Protocol):
    async def start(self, handler: Handler) -> None: ...
    async def publish(self, event: dict[str, Any]) -> None: ...
    async def close(self) -> None: ...


class _Dispatching:
    """Runs the handler in background tasks so publishers never wait on receivers."""

    def __init__(self) -> None:
        self._handler: Handler | None = None
        self._tasks: set[asyncio.Task] = set()
        self._origin = uuid.uuid4().hex[:16]  # marks this instance's events on a shared channel

    def _outgoing(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver ``event`` here now; returns what to send to the other instances."""
        self._dispatch(event)
        return {**event, "o": self._origin}

    def _incoming(self, event: dict[str, Any]) -> None:
        """An event from the channel: dispatched unless this instance sent it (it already has it)."""
        if event.get("o") != self._origin:
            self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        if self._handler is None:
            return
        task = asyncio.get_running_loop().create_task(self._safe(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _safe(self, event: dict[str, Any]) -> None:
        try:
            await self._handler(event)  # type: ignore[misc]
        except Exception:  # a bad event must not stop delivery of the next one
            log.exception("bus handler failed for %s", event)

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class LocalBus(_Dispatching):
    """Single instance: deliver in-process."""

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, event: dict[str, Any]) -> None:
        self._dispatch(event)

    async def close(self) -> None:
        await self._cancel_tasks()


class PostgresBus(_Dispatching):
    """LISTEN/NOTIFY on one channel: one listening asyncpg connection, one more to notify."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._listen_conn = None
        self._notify_pool = None
        self._outbox: list[str] = []  # NOTIFY payloads not sent yet, in publishing order
        self._sender: asyncio.Task | None = None
        self._closing = False
        self._reconnect_task: asyncio.Task | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        await self._connect_listener()

    async def _connect_listener(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        await conn.add_listener(CHANNEL, self._on_notify)
        conn.add_termination_listener(self._on_lost)
        self._listen_conn = conn

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("ignoring malformed notification %r", payload[:200])
            return
        self._incoming(event)

    def _on_lost(self, _conn) -> None:
        if not self._closing and self._reconnect_task is None:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.5
        while not self._closing:
            try:
                await self._connect_listener()
                self._dispatch({"t": "resync"})
                break
            except Exception as error:  # database still down: try again
                log.warning("LISTEN reconnect failed: %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        self._reconnect_task = None

    async def publish(self, event: dict[str, Any]) -> None:
        """Deliver here at once; the NOTIFY for the other instances goes out in the background,
        so a shopper's turn never waits for it (its bot call used to wait for the NOTIFY of the
        shopper's message). Events published meanwhile go out together, in order, in one round
        trip (``executemany`` of ``pg_notify``)."""
        self._outbox.append(_notify_payload(self._outgoing(event)))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_outbox())

    async def _send_outbox(self) -> None:
        import asyncpg

        while self._outbox:
            batch, self._outbox = self._outbox[:NOTIFY_BATCH], self._outbox[NOTIFY_BATCH:]
            for attempt in (1, 2):
                try:
                    if self._notify_pool is None:
                        self._notify_pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=1,
                                                                      reset=_nothing_to_reset)
                    await self._notify_pool.executemany("SELECT pg_notify($1, $2)",
                                                        [(CHANNEL, payload) for payload in batch])
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                    if attempt == 2:
                        # Nothing is lost: messages are in the database and
                        # clients catch up on their next sync.
                        log.warning("NOTIFY failed for %d events: %s", len(batch), error)

    async def close(self) -> None:
        self._closing = True
        if self._reconnect_task:
            self._reconnect_task.cancel()
        if self._sender is not None:  # what was published before closing still goes out
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), NOTIFY_FLUSH_SECONDS)
            except (asyncio.TimeoutError, Exception) as error:
                log.warning("NOTIFY outbox not flushed at close: %s", type(error).__name__)
                self._sender.cancel()
        if self._listen_conn is not None and not self._listen_conn.is_closed():
            await self._listen_conn.close()
        if self._notify_pool is not None:
            await self._notify_pool.close()
        await self._cancel_tasks()


NOTIFY_BATCH = 100  # events per round trip at most
NOTIFY_FLUSH_SECONDS = 5.0


async def _nothing_to_reset(_connection: Any) -> None:
    """The notify connection only runs ``SELECT pg_notify`` (no transaction, no session
    state): asyncpg's default reset on release (UNLISTEN, RESET ALL, unlock advisory locks …)
    would be a second round trip to PostgreSQL for every event."""


NOTIFY_MAX_BYTES = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


def _notify_payload(event: dict[str, Any]) -> str:
    """The event as NOTIFY text; a message too long to carry is left out (receivers read it)."""
    payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if len(payload.encode("utf-8")) > NOTIFY_MAX_BYTES and "m" in event:
        payload = json.dumps({k: v for k, v in event.items() if k != "m"}, ensure_ascii=False, separators=(",", ":"))
    return payload


class RedisBus(_Dispatching):
    """Redis pub/sub on one channel."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._redis = None
        self._reader: asyncio.Task | None = None

    async def start(self, handler: Handler) -> None:
        import redis.asyncio as aioredis

        self._handler = handler
        self._redis = aioredis.from_url(self._url)
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._reader = asyncio.get_running_loop().create_task(self._read(pubsub))

    async def _read(self, pubsub) -> None:
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                await pubsub.close()
                raise
            except Exception as error:
                log.warning("redis pub/sub read failed: %s", error)
                await asyncio.sleep(1.0)
                try:
                    await pubsub.subscribe(CHANNEL)
                    self._dispatch({"t": "resync"})
                except Exception:
                    pass
                continue
            if message and message.get("type") == "message":
                try:
                    self._incoming(json.loads(message["data"]))
                except ValueError:
                    log.warning("ignoring malformed redis message")

    async def publish(self, event: dict[str, Any]) -> None:
        try:
            await self._redis.publish(CHANNEL, json.dumps(self._outgoing(event), ensure_ascii=False,
                                                          separators=(",", ":")))
        except Exception as error:
            log.warning("redis publish failed: %s", error)

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._redis is not None:
            await self._redis.close()
        await self._cancel_tasks()
