"""Shopper endpoints: start a conversation, talk over WebSocket (or HTTP), rate."""
from __future__ import annotations

import logging

from aiohttp import WSMsgType, web

from .auth import bearer
from .conversations import create_conversation, messages_after, shopper_may_access
from .errors import DATABASE_DOWN_TEXT, HandoffError, is_database_outage
from .live import ShopperSocket
from .relay import request_human, shopper_says
from .tickets import rate
from .validation import int_param, message_text, parse_json_text, read_json
from .web_common import HUB, ctx_of, limits_of, max_message_chars, read_chat_message

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


async def _shopper_conversation(request: web.Request) -> str:
    """The conversation id if the request carries its token (header or query)."""
    conversation_id = request.headers.get("X-Conversation-Id") or request.query.get("conversation_id")
    token = bearer(request.headers.get("Authorization")) or request.query.get("token")
    if not await shopper_may_access(ctx_of(request), conversation_id, token):
        raise HandoffError("unauthorized", "Unknown conversation or wrong token.", 401)
    return conversation_id  # type: ignore[return-value]


@routes.post("/api/shopper/conversations")
async def start_conversation(request: web.Request) -> web.Response:
    limits_of(request).new_conversation(request)
    new = await create_conversation(ctx_of(request))
    return web.json_response({"conversation_id": new.conversation_id, "token": new.token}, status=201)


@routes.get("/api/shopper/messages")
async def list_messages(request: web.Request) -> web.Response:
    conversation_id = await _shopper_conversation(request)
    after = int_param(request.query.get("after"), "after", 0)
    return web.json_response({"messages": await messages_after(ctx_of(request), conversation_id, after)})


@routes.post("/api/shopper/messages")
async def post_message(request: web.Request) -> web.Response:
    conversation_id = await _shopper_conversation(request)
    ctx = ctx_of(request)
    body, text = await read_chat_message(request)
    limits_of(request).shopper_message(request, conversation_id)  # refused input does not count
    payload = body.get("payload") if isinstance(body.get("payload"), str) else None
    stored = await shopper_says(ctx, conversation_id, text, payload[:200] if payload else None)
    return web.json_response({"message": stored}, status=201)


@routes.post("/api/shopper/rating")
async def post_rating(request: web.Request) -> web.Response:
    conversation_id = await _shopper_conversation(request)
    body = await read_json(request)
    await rate(ctx_of(request), conversation_id, int_param(body.get("ticket_id"), "ticket_id"), body.get("score"))
    return web.json_response({"ok": True})


@routes.get("/ws/shopper")
async def shopper_socket(request: web.Request) -> web.WebSocketResponse:
    """Live chat. Query: conversation_id, token, after (last message id seen).

    Client → server: {"type":"message","text":...,"payload"?}, {"type":"rating",
    "ticket_id":..,"score":1-5}, {"type":"request_human"}, {"type":"ping"}.
    Server → client: {"type":"message","message":{...}}, {"type":"state",...},
    {"type":"error","error":code,"message":...}, {"type":"pong"}.
    """
    ctx = ctx_of(request)
    conversation_id = await _shopper_conversation(request)
    after = int_param(request.query.get("after"), "after", 0)
    max_chars = max_message_chars(request)
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=max_chars * 12 + 1024)
    await ws.prepare(request)
    sock = ShopperSocket(ws, conversation_id, after)
    hub = request.app[HUB]
    hub.add_shopper(sock)
    try:
        try:
            await sock.refresh(ctx)
        except Exception as error:  # the database went away right now: say so, keep the socket
            if not is_database_outage(error):
                raise
            await sock.send({"type": "error", "error": "service_unavailable", "message": DATABASE_DOWN_TEXT})
        async for frame in ws:
            if frame.type == WSMsgType.TEXT:
                try:
                    await _handle_frame(request, sock, parse_json_text(frame.data), max_chars)
                except HandoffError as error:
                    await sock.send({"type": "error", **error.as_json()})
                except Exception as error:
                    if not is_database_outage(error):
                        raise
                    log.warning("database unavailable during a shopper frame: %s", type(error).__name__)
                    await sock.send({"type": "error", "error": "service_unavailable", "message": DATABASE_DOWN_TEXT})
            elif frame.type == WSMsgType.BINARY:
                await sock.send({"type": "error", "error": "binary_frame",
                                 "message": "Frames must be JSON text, not binary."})
            elif frame.type == WSMsgType.ERROR:
                log.info("shopper socket error: %s", ws.exception())
    finally:
        hub.remove_shopper(sock)
    return ws


async def _handle_frame(request: web.Request, sock: ShopperSocket, data: dict, max_chars: int) -> None:
    ctx = ctx_of(request)
    kind = data.get("type")
    if kind in ("rating", "request_human"):
        limits_of(request).shopper_message(request, sock.conversation_id)
    if kind == "message":
        text = message_text(data.get("text"), max_chars)
        limits_of(request).shopper_message(request, sock.conversation_id)
        payload = data.get("payload") if isinstance(data.get("payload"), str) else None
        await shopper_says(ctx, sock.conversation_id, text, payload[:200] if payload else None)
    elif kind == "rating":
        await rate(ctx, sock.conversation_id, int_param(data.get("ticket_id"), "ticket_id"), data.get("score"))
    elif kind == "request_human":
        await request_human(ctx, sock.conversation_id)
        await sock.refresh(ctx)
    elif kind == "ping":
        await sock.send({"type": "pong"})
    else:
        raise HandoffError("unknown_type", "type must be message, rating, request_human or ping.")
