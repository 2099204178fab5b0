"""Agent endpoints: login, queue, taking and working on conversations, quick replies."""
from __future__ import annotations

import logging

from aiohttp import WSMsgType, web
from sqlalchemy import select

from . import quick_replies
from .agents import agent_json, agent_loads, list_agents, login, logout, set_status
from .auth import bearer
from .conversations import messages_after
from .errors import HandoffError, is_database_outage
from .live import AgentSocket
from .models import Agent, Conversation, Ticket
from .tickets import (
    accept_offer, agent_says, agent_tickets, claim_next, close_ticket, decline_offer, queue_snapshot, stats,
    ticket_json, transfer,
)
from .validation import CONVERSATION_ID, int_param, optional_str, parse_json_text, read_json
from .web_common import HUB, ctx_of, limits_of, read_chat_message, require_agent
from .agents import agent_for_token

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.post("/api/agent/login")
async def agent_login(request: web.Request) -> web.Response:
    limits_of(request).agent_login(request)
    body = await read_json(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or len(username) > 64 or len(password) > 256:
        raise HandoffError("bad_field", "username and password are required strings.")
    result = await login(ctx_of(request), username.strip(), password)
    if result is None:
        raise HandoffError("bad_credentials", "Wrong username or password.", 401)
    token, agent = result
    await ctx_of(request).queue_changed()
    return web.json_response({"token": token, "agent": agent_json(agent)})


@routes.post("/api/agent/logout")
async def agent_logout(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    await logout(ctx_of(request), bearer(request.headers.get("Authorization")) or "", agent.id)
    return web.json_response({"ok": True})


@routes.get("/api/agent/me")
async def me(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    load = next((l for l in await agent_loads(ctx_of(request)) if l.id == agent.id), None)
    return web.json_response({"agent": agent_json(agent, load)})


@routes.post("/api/agent/status")
async def status(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await read_json(request)
    value = body.get("status")
    if value not in ("online", "away"):
        raise HandoffError("bad_field", "status must be online or away.")
    await set_status(ctx_of(request), agent.id, value)
    await ctx_of(request).queue_changed()
    return web.json_response({"status": value})


@routes.get("/api/agents")
async def agents(request: web.Request) -> web.Response:
    await require_agent(request)
    return web.json_response({"agents": await list_agents(ctx_of(request))})


@routes.get("/api/queue")
async def queue(request: web.Request) -> web.Response:
    await require_agent(request)
    ctx = ctx_of(request)
    return web.json_response({"queue": await queue_snapshot(ctx), "server_time": ctx.now()})


@routes.get("/api/stats")
async def get_stats(request: web.Request) -> web.Response:
    await require_agent(request)
    return web.json_response(await stats(ctx_of(request)))


@routes.get("/api/agent/tickets")
async def my_tickets(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    ctx = ctx_of(request)
    return web.json_response({"tickets": await agent_tickets(ctx, agent), "server_time": ctx.now()})


@routes.post("/api/agent/claim")
async def claim(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    ctx = ctx_of(request)
    ticket = await claim_next(ctx, agent)
    if ticket is None:
        return web.json_response({"ticket": None, "message": "No waiting ticket you can take."})
    return web.json_response({"ticket": ticket_json(ticket, ctx.now(), ctx.policy, agent.display_name)})


@routes.post("/api/tickets/{ticket_id}/accept")
async def accept(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    ctx = ctx_of(request)
    ticket = await accept_offer(ctx, agent, int_param(request.match_info["ticket_id"], "ticket_id"))
    return web.json_response({"ticket": ticket_json(ticket, ctx.now(), ctx.policy, agent.display_name)})


@routes.post("/api/tickets/{ticket_id}/decline")
async def decline(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    await decline_offer(ctx_of(request), agent, int_param(request.match_info["ticket_id"], "ticket_id"))
    return web.json_response({"ok": True})


def _conversation_id(request: web.Request) -> str:
    conversation_id = request.match_info["conversation_id"]
    if not CONVERSATION_ID.match(conversation_id):
        raise HandoffError("bad_field", "Malformed conversation id.")
    return conversation_id


@routes.get("/api/conversations/{conversation_id}")
async def conversation(request: web.Request) -> web.Response:
    """Transcript (bot part included) and every ticket of the conversation, newest first."""
    await require_agent(request)
    ctx = ctx_of(request)
    conversation_id = _conversation_id(request)
    async with ctx.sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            raise HandoffError("not_found", "No such conversation.", 404)
        rows = (await session.execute(
            select(Ticket, Agent.display_name).outerjoin(Agent, Agent.id == Ticket.agent_id)
            .where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
        )).all()
    after = int_param(request.query.get("after"), "after", 0)
    now = ctx.now()
    return web.json_response({
        "conversation": {"id": conv.id, "state": conv.state, "channel": conv.channel, "created_at": conv.created_at},
        "tickets": [ticket_json(t, now, ctx.policy, name) for t, name in rows],
        "messages": await messages_after(ctx, conversation_id, after, limit=2000),
        "server_time": now,
    })


@routes.post("/api/conversations/{conversation_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    _, text = await read_chat_message(request)
    message = await agent_says(ctx_of(request), agent, _conversation_id(request), text)
    return web.json_response({"message": message}, status=201)


@routes.post("/api/conversations/{conversation_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    ticket = await close_ticket(ctx_of(request), agent, _conversation_id(request), "resolved")
    return web.json_response({"ticket_id": ticket.id, "status": "resolved"})


@routes.post("/api/conversations/{conversation_id}/handback")
async def handback(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    ticket = await close_ticket(ctx_of(request), agent, _conversation_id(request), "handed_back")
    return web.json_response({"ticket_id": ticket.id, "status": "handed_back"})


@routes.post("/api/conversations/{conversation_id}/transfer")
async def transfer_conversation(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await read_json(request)
    to_agent = body.get("to_agent_id")
    ticket = await transfer(
        ctx_of(request), agent, _conversation_id(request),
        to_agent_id=int_param(to_agent, "to_agent_id") if to_agent is not None else None,
        to_skill=optional_str(body, "to_skill", 32),
    )
    return web.json_response({"ticket_id": ticket.id, "status": ticket.status, "agent_id": ticket.agent_id,
                              "skill": ticket.skill})


@routes.get("/api/quick-replies")
async def list_quick_replies(request: web.Request) -> web.Response:
    await require_agent(request)
    q = request.query.get("q", "")[:50]
    topic = request.query.get("topic") or None
    return web.json_response({"quick_replies": await quick_replies.search(ctx_of(request), q, topic)})


@routes.post("/api/quick-replies")
async def add_quick_reply(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await read_json(request)
    reply = await quick_replies.create(
        ctx_of(request), optional_str(body, "topic", 32) or "general", optional_str(body, "title", 64) or "",
        optional_str(body, "text", 1000) or "", agent.id,
    )
    return web.json_response({"quick_reply": reply}, status=201)


@routes.put("/api/quick-replies/{reply_id}")
async def edit_quick_reply(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    body = await read_json(request)
    reply = await quick_replies.update(
        ctx_of(request), int_param(request.match_info["reply_id"], "reply_id"), agent.id,
        topic=optional_str(body, "topic", 32), title=optional_str(body, "title", 64),
        text=optional_str(body, "text", 1000),
    )
    return web.json_response({"quick_reply": reply})


@routes.delete("/api/quick-replies/{reply_id}")
async def delete_quick_reply(request: web.Request) -> web.Response:
    await require_agent(request)
    await quick_replies.remove(ctx_of(request), int_param(request.match_info["reply_id"], "reply_id"))
    return web.json_response({"ok": True})


@routes.get("/ws/agent")
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """Live console feed. Query: token.

    Client → server: {"type":"watch","conversation_id":..,"after":N},
    {"type":"unwatch","conversation_id":..}, {"type":"ping"}.
    Server → client: {"type":"queue",...}, {"type":"message","message":...},
    {"type":"agent_event","event":{offer|offer_expired|assigned|lost}},
    {"type":"conversation_changed",...}, {"type":"error",...}.
    """
    ctx = ctx_of(request)
    agent = await agent_for_token(ctx, request.query.get("token"))
    if agent is None:
        raise HandoffError("unauthorized", "Log in as an agent first.", 401)
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=64 * 1024)
    await ws.prepare(request)
    sock = AgentSocket(ws, agent.id)
    hub = request.app[HUB]
    hub.add_agent(sock)
    if agent.status == "offline":
        await set_status(ctx, agent.id, "online")
    else:
        from .agents import heartbeat
        await heartbeat(ctx, [agent.id])
    await sock.send({"type": "queue", "queue": await queue_snapshot(ctx), "server_time": ctx.now()})
    await ctx.queue_changed()  # presence changed: offers may now go out
    try:
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                data = parse_json_text(frame.data)
                kind = data.get("type")
                if kind == "watch":
                    conversation_id = str(data.get("conversation_id", ""))
                    if not CONVERSATION_ID.match(conversation_id):
                        raise HandoffError("bad_field", "Malformed conversation id.")
                    hub.watch(sock, conversation_id, int_param(data.get("after"), "after", 0))
                    await sock.sync(ctx, conversation_id)
                elif kind == "unwatch":
                    hub.unwatch(sock, str(data.get("conversation_id", "")))
                elif kind == "ping":
                    await sock.send({"type": "pong"})
                else:
                    raise HandoffError("unknown_type", "type must be watch, unwatch or ping.")
            except HandoffError as error:
                await sock.send({"type": "error", **error.as_json()})
            except Exception as error:  # database gone for a moment: the console retries, the socket stays
                if not is_database_outage(error):
                    raise
                await sock.send({"type": "error", "error": "service_unavailable",
                                 "message": "Database unavailable; try again in a moment."})
    finally:
        await hub.remove_agent(sock)
    return ws
