"""What the bot knows when it hands over, as the handoff service's ticket.

Pure functions over a rasa_sdk ``Tracker`` so they are easy to test:

* reason — from a ``handoff_reason`` slot another action set (e.g.
  verification_failed, double_charge), else the emotion the NLU measured
  (``latest_message["emotion"]``, a later component: ``{"label", "score",
  "cues"}`` with score in [0,1] = how upset; labels ``threat`` / ``anger``),
  else the intent that led here;
* topic/skill — from the most recent intent that names a topic;
* customer, order — from slots the shop actions set (customer_id,
  vip_tier, order_id, order_amount) and, if the shop database is reachable,
  from the order itself;
* summary — intents, entities and slots of the conversation so far, plus
  the shopper's last words, so the agent never asks again.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

INTENT_TOPICS = {
    "track_shipment": "logistics",
    "urge_shipment": "logistics",
    "report_lost_package": "logistics",
    "change_address": "logistics",
    "request_return": "returns",
    "request_exchange": "returns",
    "check_refund_status": "returns",
    "report_damaged": "returns",
    "ask_product_usage": "usage",
    "check_order_status": "orders",
    "cancel_order": "orders",
    "complain": "complaints",
}
FAQ_TOPICS = {
    "shipping_fee": "logistics", "ship_time": "logistics", "delivery_time": "logistics",
    "shipping_carrier": "logistics", "remote_area": "logistics", "return_policy": "returns",
    "return_shipping_fee": "returns", "refund_time": "returns", "exchange_policy": "returns",
    "warranty": "usage", "size_guide": "usage", "invoice": "orders",
}
INTENT_REASONS = {
    "request_human": "explicit_request",
    "complain": "complaint",
    "report_lost_package": "lost_parcel",
    "report_damaged": "damaged_item",
}
# Emotion labels that are reasons by themselves when strong enough.
EMOTION_REASONS = {"threat": "threat", "anger": "anger", "angry": "anger"}
EMOTION_REASON_MIN_SCORE = 0.6
SUMMARY_SLOTS_SKIP = {"requested_slot", "session_started_metadata"}


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


def topic_for(tracker: Tracker) -> str:
    """The skill group for the ticket: the latest topical intent, else general."""
    for event in reversed(_user_events(tracker)):
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if intent in INTENT_TOPICS:
            return INTENT_TOPICS[intent]
        if intent == "faq":
            key = ((parse.get("response_selector") or {}).get("faq", {}).get("response", {}) or {}).get("intent_response_key", "")
            topic = FAQ_TOPICS.get(key.split("/")[-1])
            if topic:
                return topic
    latest = (tracker.latest_message or {}).get("intent", {}).get("name")
    return INTENT_TOPICS.get(latest, "general")


def emotion_of(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The NLU's emotion reading of the last message, if a component provides one."""
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
        "score": score,
        "label": str(emotion["label"])[:32] if emotion.get("label") else None,
        "cues": [str(c)[:60] for c in cues][:10] if isinstance(cues, list) else [],
    }


def reason_for(tracker: Tracker, emotion: Optional[Dict[str, Any]]) -> str:
    """Why the conversation goes to a person (a reason code of the handoff service)."""
    slot_reason = tracker.slots.get("handoff_reason")
    if isinstance(slot_reason, str) and slot_reason:
        return slot_reason
    if emotion and emotion.get("label") in EMOTION_REASONS and (emotion.get("score") or 0) >= EMOTION_REASON_MIN_SCORE:
        return EMOTION_REASONS[emotion["label"]]
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent in INTENT_REASONS:
        return INTENT_REASONS[intent]
    if intent == "affirm" and _last_bot_utterance(tracker) == "utter_offer_human":
        return "repeated_misunderstanding"
    return "explicit_request"


def _last_bot_utterance(tracker: Tracker) -> Optional[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
        if event.get("event") == "action" and str(event.get("name", "")).startswith("utter_"):
            return event.get("name")
    return None


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
    if customer is None and (slots.get("customer_id") or slots.get("vip_tier")):
        customer = {"id": slots.get("customer_id"), "vip_tier": slots.get("vip_tier")}
    if order is None and slots.get("order_id"):
        order = {"id": slots.get("order_id"), "amount": slots.get("order_amount")}
    return {
        "conversation_id": tracker.sender_id,
        "reason": reason_for(tracker, emotion),
        "topic": topic_for(tracker),
        "emotion": emotion,
        "customer": customer,
        "order": order,
        "summary": summary_of(tracker),
        "transcript": transcript_of(tracker),
    }
