"""App keys, auth helpers and the JSON error middleware shared by the route modules."""
from __future__ import annotations

import logging

from aiohttp import web

from .agents import agent_for_token
from .auth import bearer
from .context import Context
from .errors import HandoffError
from .models import Agent

log = logging.getLogger(__name__)

CTX = web.AppKey("ctx", Context)
HUB = web.AppKey("hub", object)  # handoff.live.Hub (typed loosely to avoid an import cycle)


def ctx_of(request: web.Request) -> Context:
    return request.app[CTX]


async def require_agent(request: web.Request) -> Agent:
    """The logged-in agent of an ``Authorization: Bearer`` request, or 401."""
    agent = await agent_for_token(ctx_of(request), bearer(request.headers.get("Authorization")))
    if agent is None:
        raise HandoffError("unauthorized", "Log in as an agent first (Authorization: Bearer <token>).", 401)
    return agent


@web.middleware
async def json_errors(request: web.Request, handler):
    """API errors as ``{"error": code, "message": ...}``; pages keep aiohttp's defaults."""
    try:
        return await handler(request)
    except HandoffError as error:
        return web.json_response(error.as_json(), status=error.status)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(error.status, "http_error")
        return web.json_response({"error": code, "message": error.reason}, status=error.status)
