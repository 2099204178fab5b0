"""Graceful restart: drain in-flight bot turns before the listener closes.

A shopper message relayed to Rasa can lead to ``action_handoff`` posting a ticket
back to this service. aiohttp's own SIGTERM handling closes the listening socket
first, so that ticket would meet "connection refused" while the old process waits
for the very bot call that is trying to reach it; when the process then exits,
Rasa (Sanic) cancels the turn and the ticket is lost. So on SIGTERM the service
first *drains*: it keeps listening, answers shoppers and agents with 503 + a
Retry-After (their clients retry and reach the new process), closes live sockets
with 1012 "service restart" so clients reconnect, still accepts the bot's calls,
and exits once no bot call is in flight (or after ``shutdown_grace_seconds``).
"""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.web_runner import GracefulExit

log = logging.getLogger(__name__)

DRAINING = web.AppKey("draining", asyncio.Event)
RESTART_TEXT = "服务正在重启，请稍等几秒后重试~"
ALWAYS_OPEN = ("/api/bot/", "/healthz")  # the bot must reach us until the last in-flight turn ends


class InFlight:
    """Counts work in flight (HTTP requests, shopper messages, bot turns), so draining knows
    when it may stop."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> "InFlight":
        self._count += 1
        self._idle.clear()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    async def wait_idle(self) -> None:
        await self._idle.wait()


IN_FLIGHT = InFlight()


@web.middleware
async def refuse_while_draining(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Shoppers and agents retry elsewhere (the new process) while this one drains; requests
    already accepted are counted, so draining waits for them (WebSockets are closed instead)."""
    draining = request.app.get(DRAINING)
    if draining is not None and draining.is_set() and not request.path.startswith(ALWAYS_OPEN):
        return web.json_response({"error": "restarting", "message": RESTART_TEXT}, status=503,
                                 headers={"Retry-After": "1", "Connection": "close"})
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await handler(request)
    with IN_FLIGHT:
        return await handler(request)


def install(app: web.Application, grace_seconds: float,
            close_sockets: Callable[[web.Application], Awaitable[None]]) -> None:
    """Handle SIGTERM/SIGINT by draining first (run the app with ``handle_signals=False``)."""
    app[DRAINING] = asyncio.Event()

    async def on_startup(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _start_drain, app, loop, grace_seconds, close_sockets)

    app.on_startup.append(on_startup)


def _start_drain(app: web.Application, loop: asyncio.AbstractEventLoop, grace_seconds: float,
                 close_sockets: Callable[[web.Application], Awaitable[None]]) -> None:
    if app[DRAINING].is_set():  # a second signal: stop now
        _exit_now()
    app[DRAINING].set()
    log.info("draining: %d request(s)/bot turn(s) in flight, up to %.0f s", IN_FLIGHT.count, grace_seconds)
    loop.create_task(_drain(loop, grace_seconds, close_sockets(app)))


async def _drain(loop: asyncio.AbstractEventLoop, grace_seconds: float, closing: Awaitable[None]) -> None:
    try:
        await closing
        await asyncio.wait_for(IN_FLIGHT.wait_idle(), grace_seconds)
        log.info("drained; stopping")
    except asyncio.TimeoutError:
        log.warning("stopping with %d request(s)/bot turn(s) still in flight after %.0f s", IN_FLIGHT.count, grace_seconds)
    except Exception:  # never keep a process alive that was told to stop
        log.exception("draining failed; stopping")
    loop.call_soon(_exit_now)


def _exit_now() -> None:
    """What aiohttp's own signal handler does: unwinds run_app into its normal cleanup."""
    raise GracefulExit()
