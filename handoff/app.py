"""The aiohttp application factory, used by ``python -m handoff`` and the tests."""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from . import dispatcher
from .bus import Bus, LocalBus, PostgresBus, RedisBus
from .config import Settings
from .context import Context
from .db import create_tables, is_postgres, make_engines, plain_postgres_dsn, session_factory
from .drain import refuse_while_draining
from .live import Hub
from .ratelimit import RateLimits
from .rasa_client import RasaClient
from .web_agent import routes as agent_routes
from .web_bot import routes as bot_routes
from .web_common import CTX, HUB, LIMITS, json_errors
from .web_pages import routes as page_routes
from .web_shopper import routes as shopper_routes

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def make_bus(settings: Settings) -> Bus:
    """Redis if configured, else LISTEN/NOTIFY on PostgreSQL, else in-process."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    if is_postgres(settings.db_url):
        return PostgresBus(plain_postgres_dsn(settings.db_url))
    return LocalBus()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[refuse_while_draining, json_errors], client_max_size=int(settings.limits["max_body_bytes"])
    )
    app.add_routes(shopper_routes)
    app.add_routes(agent_routes)
    app.add_routes(bot_routes)
    app.add_routes(page_routes)
    app.on_response_prepare.append(_add_security_headers)
    app.cleanup_ctx.append(_resources(settings))
    return app


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """No inline script, no foreign origins: user text can never run as code."""
    if not isinstance(response, web.WebSocketResponse):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)


def _resources(settings: Settings):
    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine, writer = make_engines(settings.db_url)
        await create_tables(writer)
        http = aiohttp.ClientSession()
        bus = make_bus(settings)
        ctx = Context(
            settings=settings, engine=engine, sessions=session_factory(engine), bus=bus,
            rasa=RasaClient(http, settings.rasa_url, settings.rasa_token, float(settings.limits["rasa_timeout_seconds"])),
            postgres=is_postgres(settings.db_url), writer=writer,
        )
        hub = Hub(ctx)
        await bus.start(hub.on_event)
        hub.start()
        app[CTX] = ctx
        app[HUB] = hub
        app[LIMITS] = RateLimits.from_policy(settings.policy["rate_limits"], lambda: ctx.clock())
        loop_task = asyncio.get_running_loop().create_task(dispatcher.run_forever(ctx)) if settings.run_dispatcher else None
        try:
            yield
        finally:
            if loop_task:
                loop_task.cancel()
                await asyncio.gather(loop_task, return_exceptions=True)
            await hub.close()
            await bus.close()
            await http.close()
            await ctx.dispose()

    return resources
