"""The bot's endpoint: the action server hands a conversation over."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from .auth import bearer, same_secret
from .config import GENERAL_SKILL, SKILLS
from .errors import HandoffError
from .tickets import TicketRequest, create_ticket, queue_place
from .validation import CONVERSATION_ID, optional_number, optional_str, read_json
from .web_common import ctx_of

routes = web.RouteTableDef()


def parse_ticket_request(body: dict[str, Any]) -> TicketRequest:
    """Validate the handoff payload (see docs/handoff.md for the schema)."""
    conversation_id = body.get("conversation_id")
    if not isinstance(conversation_id, str) or not CONVERSATION_ID.match(conversation_id):
        raise HandoffError("bad_field", "conversation_id must be 1-64 characters of letters, digits, _-:.@")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.replace("_", "").isalnum() or len(reason) > 48:
        raise HandoffError("bad_field", "reason must be a short code such as explicit_request or complaint.")
    topic = body.get("topic") or GENERAL_SKILL
    if topic not in (*SKILLS, GENERAL_SKILL):
        raise HandoffError("bad_field", f"topic must be one of {', '.join(SKILLS)} or general.")

    emotion = body.get("emotion") or {}
    customer = body.get("customer") or {}
    order = body.get("order") or {}
    for name, value in (("emotion", emotion), ("customer", customer), ("order", order)):
        if not isinstance(value, dict):
            raise HandoffError("bad_field", f"{name} must be an object or null.")
    cues = emotion.get("cues") or []
    if not isinstance(cues, list) or not all(isinstance(c, str) for c in cues):
        raise HandoffError("bad_field", "emotion.cues must be a list of strings.")
    summary = body.get("summary") or {}
    if not isinstance(summary, dict):
        raise HandoffError("bad_field", "summary must be an object.")
    transcript = body.get("transcript") or []
    if not isinstance(transcript, list) or not all(isinstance(t, dict) for t in transcript):
        raise HandoffError("bad_field", "transcript must be a list of {sender, text, timestamp} objects.")

    return TicketRequest(
        conversation_id=conversation_id,
        reason=reason,
        skill=topic,
        emotion_score=optional_number(emotion, "score", 0.0, 1.0),
        emotion_label=optional_str(emotion, "label", 32),
        emotion_cues=[c[:60] for c in cues[:10]],
        customer_id=optional_str(customer, "id", 64),
        vip_tier=optional_str(customer, "vip_tier", 32),
        order_id=optional_str(order, "id", 32),
        order_amount=optional_number(order, "amount", 0.0, 10_000_000.0),
        summary=summary,
        transcript=transcript[-200:],
    )


@routes.post("/api/bot/handoff")
async def handoff(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    if not same_secret(bearer(request.headers.get("Authorization")), ctx.settings.bot_secret):
        raise HandoffError("unauthorized", "The bot secret is missing or wrong.", 401)
    req = parse_ticket_request(await read_json(request))
    ticket, created = await create_ticket(ctx, req)
    place = await queue_place(ctx, req.conversation_id) or {}
    body = {
        "ticket_id": ticket.id, "created": created, "priority": ticket.priority, "level": ticket.level,
        "skill": ticket.skill, "status": place.get("status", ticket.status),
        "queue_position": place.get("queue_position"),
        "estimated_wait_seconds": place.get("estimated_wait_seconds"),
        "agents_online": place.get("agents_online"), "agent_name": place.get("agent_name"),
    }
    return web.json_response(body, status=201 if created else 200)
