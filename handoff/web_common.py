"""App keys, auth helpers and the JSON error middleware shared by the route modules."""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from .agents import agent_for_token
from .auth import bearer
from .context import Context
from .errors import DATABASE_DOWN_TEXT, HandoffError, is_database_outage
from .models import Agent
from .ratelimit import RateLimited, RateLimits
from .validation import message_text, read_json

log = logging.getLogger(__name__)

CTX = web.AppKey("ctx", Context)
HUB = web.AppKey("hub", object)  # handoff.live.Hub (typed loosely to avoid an import cycle)
LIMITS = web.AppKey("limits", RateLimits)


def ctx_of(request: web.Request) -> Context:
    return request.app[CTX]


def limits_of(request: web.Request) -> RateLimits:
    return request.app[LIMITS]


def max_message_chars(request: web.Request) -> int:
    """The longest chat message the service accepts (settings: limits.max_message_chars)."""
    return int(ctx_of(request).settings.limits["max_message_chars"])


async def read_chat_message(request: web.Request) -> tuple[dict[str, Any], str]:
    """A posted chat message: the JSON body and its cleaned ``text``, or a 400/413 with a reason."""
    body = await read_json(request)
    return body, message_text(body.get("text"), max_message_chars(request))


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
    except RateLimited as error:
        return web.json_response(error.as_json(), status=429, headers={"Retry-After": str(error.retry_after)})
    except HandoffError as error:
        return web.json_response(error.as_json(), status=error.status)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(error.status, "http_error")
        return web.json_response({"error": code, "message": error.reason}, status=error.status)
    except Exception as error:
        if not is_database_outage(error):
            raise
        log.warning("database unavailable for %s %s: %s", request.method, request.path, type(error).__name__)
        return web.json_response({"error": "service_unavailable", "message": DATABASE_DOWN_TEXT},
                                 status=503, headers={"Retry-After": "5"})
