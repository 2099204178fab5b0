"""handoff_reason(): the (reason, topic) action_handoff puts on the ticket.

Trackers here are what the action server receives (rasa_sdk event dicts).
"""
from __future__ import annotations

from rasa_sdk import Tracker

from bot.emotion import score_message
from bot.escalation import REASON_LEVELS, REASON_ORDER, handoff_reason, level_for_reason
from bot.textnorm import normalise


def user(text: str, intent: str, confidence: float = 0.9) -> dict:
    clean = normalise(text).text
    return {"event": "user", "text": clean, "parse_data": {
        "text": clean, "intent": {"name": intent, "confidence": confidence}, "entities": [],
        "emotion": score_message(text).as_dict()}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def tracker(*events, slots=None) -> Tracker:
    evs = [action("action_session_start"), {"event": "session_started"}, action("action_listen"), *events]
    latest = next((e["parse_data"] for e in reversed(evs) if e["event"] == "user"), {})
    return Tracker.from_dict({"sender_id": "s1", "slots": slots or {}, "latest_message": latest,
                              "events": evs, "paused": False, "latest_event_time": 1, "active_loop": {}})


def test_reason_set_by_the_policy_this_turn_wins():
    t = tracker(user("运费多少", "faq"), {"event": "slot", "name": "handoff_reason", "value": "safety"},
                slots={"handoff_reason": "safety"})
    assert handoff_reason(t) == ("safety", "complaints")


def test_a_stale_reason_from_an_earlier_turn_is_ignored():
    t = tracker({"event": "slot", "name": "handoff_reason", "value": "anger"}, user("转人工", "request_human"),
                slots={"handoff_reason": "anger"})
    assert handoff_reason(t) == ("explicit_request", "general")


def test_recomputed_when_a_rule_triggered_the_handoff():
    assert handoff_reason(tracker(user("快递丢了吧，三天没动了", "report_lost_package"))) == ("lost_parcel", "logistics")
    assert handoff_reason(tracker(user("被扣了两次钱", "check_order_status"))) == ("double_charge", "orders")
    assert handoff_reason(tracker(user("你们这是什么垃圾服务，气死了！！！", "track_shipment"))) == ("anger", "logistics")


def test_works_on_the_tracker_state_dict_too():
    state = tracker(user("我要投诉", "complain")).current_state()
    assert handoff_reason(state) == ("complaint", "complaints")


def test_unexplained_handoff_is_an_explicit_request():
    assert handoff_reason(tracker(user("你好", "greet"))) == ("explicit_request", "general")


def test_every_reason_has_a_level_and_the_documented_mapping_holds():
    assert set(REASON_ORDER) == set(REASON_LEVELS)
    assert {r for r, lvl in REASON_LEVELS.items() if lvl == "urgent"} == {"safety", "threat", "double_charge"}
    for reason in ("anger", "complaint", "lost_parcel"):
        assert level_for_reason(reason) == "high"
    for reason in ("explicit_request", "loop"):
        assert level_for_reason(reason) == "normal"
