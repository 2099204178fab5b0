"""What the bot knows when it hands over, as the handoff service's ticket.

Pure functions over a rasa_sdk ``Tracker`` so they are easy to test:

* reason, topic — ``bot.escalation.handoff_reason``: the reason the
  EscalationPolicy or an action set since the shopper's last message, else
  the escalation signals recomputed for that message (so a rule-triggered
  handoff gets the same reason the policy would have given, and a stale
  ``handoff_reason`` slot from an earlier handoff is never reused);
* emotion — the NLU's reading of the last message
  (``latest_message["emotion"]``, bot/emotion.py): label, score 0-1, cues;
* customer, order — from the shop database when the shopper named an order
  (actions/handoff.py), else the slots verification set (customer_id,
  vip_tier, order_id, order_amount);
* summary — intents, entities and slots of the conversation so far, plus
  the shopper's last words, so the agent never asks again.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from bot.escalation import handoff_reason

SUMMARY_SLOTS_SKIP = {"requested_slot", "session_started_metadata"}
EMOTION_FIELDS = ("label", "score", "cues")


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def intent_history(tracker: Tracker) -> List[str]:
    """Intents of the shopper's turns, oldest first."""
    names = []
    for event in _user_events(tracker):
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name"):
            names.append(intent["name"])
    latest = (tracker.latest_message or {}).get("intent", {}).get("name")
    if latest and (not names or names[-1] != latest):
        names.append(latest)
    return names


def emotion_of(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The NLU's emotion reading of the last message (label, score, cues), or None."""
    emotion = (tracker.latest_message or {}).get("emotion")
    if not isinstance(emotion, dict):
        return None
    score = emotion.get("score")
    try:
        score = None if score is None else min(max(float(score), 0.0), 1.0)
    except (TypeError, ValueError):
        score = None
    cues = emotion.get("cues") or []
    return {
        "label": str(emotion["label"])[:32] if emotion.get("label") else None,
        "score": score,
        "cues": [str(c)[:60] for c in cues][:10] if isinstance(cues, list) else [],
    }


def _state_for_reason(tracker: Tracker) -> Dict[str, Any]:
    """Events and slots for ``handoff_reason``, the latest message's NLU reading included.

    Rasa copies the whole parse result (emotion too) into the user event; a
    tracker built by hand may carry it only in ``latest_message``, so the
    last user event gets it from there when it lacks one.
    """
    events = list(tracker.events or [])
    latest = tracker.latest_message or {}
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if event.get("event") != "user":
            continue
        parse = dict(event.get("parse_data") or {})
        if "emotion" not in parse and isinstance(latest.get("emotion"), dict):
            parse["emotion"] = latest["emotion"]
            events[i] = {**event, "parse_data": parse}
        break
    else:
        if latest.get("text") or latest.get("intent"):
            events.append({"event": "user", "text": latest.get("text") or "", "parse_data": latest})
    return {"events": events, "slots": dict(tracker.slots or {})}


def reason_and_topic(tracker: Tracker) -> tuple[str, str]:
    """Why the conversation goes to a person and which skill group should take it."""
    reason, topic = handoff_reason(_state_for_reason(tracker))
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if reason == "explicit_request" and intent == "affirm" and tracker.slots.get("verification_locked"):
        # The rule "accepting a human after failed verification": say why.
        return "verification_failed", "orders"
    return reason, topic


def summary_of(tracker: Tracker) -> Dict[str, Any]:
    """Intents, entities and slots so far, and the shopper's last words."""
    entities: List[Dict[str, Any]] = []
    for event in _user_events(tracker):
        for ent in (event.get("parse_data") or {}).get("entities") or []:
            item = {"entity": ent.get("entity"), "value": ent.get("value")}
            if item not in entities:
                entities.append(item)
    for ent in (tracker.latest_message or {}).get("entities") or []:
        item = {"entity": ent.get("entity"), "value": ent.get("value")}
        if item not in entities:
            entities.append(item)
    slots = {k: v for k, v in tracker.slots.items() if v not in (None, "", [], {}) and k not in SUMMARY_SLOTS_SKIP}
    texts = [e.get("text") for e in _user_events(tracker) if e.get("text")]
    last_text = (tracker.latest_message or {}).get("text") or (texts[-1] if texts else None)
    return {
        "intents": intent_history(tracker)[-20:],
        "entities": entities[-20:],
        "slots": slots,
        "last_text": last_text,
        "recent_texts": texts[-5:],
    }


def transcript_of(tracker: Tracker) -> List[Dict[str, Any]]:
    """The user and bot lines, for conversations the handoff service has not seen."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            lines.append({"sender": event["event"], "text": event["text"], "timestamp": event.get("timestamp")})
    return lines[-100:]


def build_ticket(tracker: Tracker, order: Optional[Dict[str, Any]] = None,
                 customer: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The JSON body for POST /api/bot/handoff."""
    emotion = emotion_of(tracker)
    slots = tracker.slots
    reason, topic = reason_and_topic(tracker)
    if customer is None and (slots.get("customer_id") or slots.get("vip_tier")):
        customer = {"id": slots.get("customer_id"), "vip_tier": slots.get("vip_tier")}
    if order is None and slots.get("order_id"):
        order = {"id": slots.get("order_id"), "amount": slots.get("order_amount")}
    if order is not None and not re.fullmatch(r"\d{16,19}", str(order.get("id") or "")):
        order = None  # not an order number (e.g. 960 digits typed): the ticket must not be refused for it
    return {
        "conversation_id": tracker.sender_id,
        "reason": reason,
        "topic": topic,
        "emotion": emotion,
        "customer": customer,
        "order": order,
        "summary": summary_of(tracker),
        "transcript": transcript_of(tracker),
    }
