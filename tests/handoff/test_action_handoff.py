"""action_handoff: the ticket it builds from a tracker, and what happens when the service is down."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from actions.handoff_ticket import build_ticket
from bot.emotion import score_message


def tracker(intent: str, text: str, events: list, slots: dict | None = None, emotion: dict | None = None) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.99}, "entities": [], "text": text}
    if emotion:
        latest["emotion"] = emotion
    return Tracker.from_dict({"sender_id": "conv-42", "slots": slots or {}, "latest_message": latest,
                              "events": events, "paused": False, "followup_action": None,
                              "active_loop": {}, "latest_action_name": "action_listen"})


def user(intent: str, text: str, entities: list | None = None, emotion: dict | None = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text}
    if emotion is not None:
        parse["emotion"] = emotion
    return {"event": "user", "text": text, "timestamp": 1.0, "parse_data": parse}


def scored(intent: str, text: str, events: list | None = None, slots: dict | None = None) -> Tracker:
    """A tracker whose last message carries the EmotionScorer's reading, as Rasa sends it."""
    emotion = score_message(text).as_dict()
    return tracker(intent, text, [*(events or []), user(intent, text, emotion=emotion)], slots, emotion)


def test_ticket_carries_reason_topic_summary_and_slots():
    events = [user("request_return", "我要退货", [{"entity": "order_id", "value": "3829104857263541"}]),
              {"event": "bot", "text": "亲，请提供手机尾号", "metadata": {"utter_action": "utter_ask_phone_tail"}},
              user("request_human", "转人工")]
    t = tracker("request_human", "转人工", events, slots={"order_id": "3829104857263541", "vip_tier": "银卡会员",
                                                         "customer_id": "7", "handoff_reason": None})
    ticket = build_ticket(t)
    assert ticket["conversation_id"] == "conv-42"
    assert ticket["reason"] == "explicit_request"
    assert ticket["topic"] == "returns"
    assert ticket["customer"] == {"id": "7", "vip_tier": "银卡会员"}
    assert ticket["order"] == {"id": "3829104857263541", "amount": None}
    assert ticket["summary"]["intents"] == ["request_return", "request_human"]
    assert ticket["summary"]["entities"] == [{"entity": "order_id", "value": "3829104857263541"}]
    assert ticket["summary"]["last_text"] == "转人工"
    assert ticket["emotion"] is None
    assert [line["sender"] for line in ticket["transcript"]] == ["user", "bot", "user"]


def test_reason_comes_from_slot_then_emotion_then_intent():
    events = [user("complain", "你们太差了")]
    assert build_ticket(tracker("complain", "你们太差了", events))["reason"] == "complaint"
    angry = {"label": "angry", "score": 0.92, "cues": ["punct:!!", "negative:太差"], "threat": False,
             "safety": False, "sarcasm": False}
    ticket = build_ticket(tracker("complain", "你们太差了！！", [user("complain", "你们太差了！！")], emotion=angry))
    assert ticket["reason"] == "anger"
    assert ticket["emotion"] == {"label": "angry", "score": 0.92, "cues": ["punct:!!", "negative:太差"]}
    # A reason an action (or the policy) set after the shopper's message wins.
    set_now = events + [{"event": "slot", "name": "handoff_reason", "value": "double_charge"}]
    slot = build_ticket(tracker("complain", "x", set_now, slots={"handoff_reason": "double_charge"}, emotion=angry))
    assert slot["reason"] == "double_charge" and slot["topic"] == "orders"
    lost = build_ticket(tracker("report_lost_package", "快递丢了", [user("report_lost_package", "快递丢了")]))
    assert lost["reason"] == "lost_parcel" and lost["topic"] == "logistics"


def test_angry_message_gives_reason_anger_with_the_score_on_the_ticket():
    text = "什么破快递，垃圾！都五天了还不到"
    ticket = build_ticket(scored("track_shipment", text))
    reading = score_message(text)
    assert reading.score >= 0.6
    assert ticket["reason"] == "anger" and ticket["topic"] == "logistics"
    assert ticket["emotion"]["label"] == "angry" and ticket["emotion"]["score"] == reading.score
    assert "negative:垃圾" in ticket["emotion"]["cues"]


def test_threat_gives_reason_threat_even_when_the_intent_is_a_complaint():
    ticket = build_ticket(scored("complain", "再不处理我就去12315投诉你们"))
    assert ticket["reason"] == "threat" and ticket["topic"] == "complaints"
    assert any(c.startswith("threat:") for c in ticket["emotion"]["cues"])


def test_calm_request_for_a_person_is_an_explicit_request():
    events = [user("track_shipment", "快递到哪了", [{"entity": "order_id", "value": "3829104857263541"}])]
    ticket = build_ticket(scored("request_human", "麻烦帮我转人工客服", events))
    assert ticket["reason"] == "explicit_request" and ticket["topic"] == "logistics"
    assert ticket["emotion"]["label"] == "calm" and ticket["emotion"]["score"] == 0


def test_a_stale_reason_from_an_earlier_handoff_is_not_reused():
    events = [user("complain", "我要投诉"), {"event": "slot", "name": "handoff_reason", "value": "complaint"},
              {"event": "action", "name": "action_handoff"}, {"event": "resume"},
              user("request_human", "转人工")]
    ticket = build_ticket(tracker("request_human", "转人工", events, slots={"handoff_reason": "complaint"}))
    assert ticket["reason"] == "explicit_request"


def test_accepting_a_human_after_failed_verification_says_so():
    events = [user("affirm", "好的")]
    ticket = build_ticket(tracker("affirm", "好的", events, slots={"verification_locked": True}))
    assert ticket["reason"] == "verification_failed" and ticket["topic"] == "orders"


def test_accepting_the_offer_of_a_human_is_a_repeated_misunderstanding():
    events = [user("nlu_fallback", "阿巴阿巴"),
              {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_offer_human"}},
              user("affirm", "好的")]
    assert build_ticket(tracker("affirm", "好的", events))["reason"] == "repeated_misunderstanding"


async def test_unreachable_service_gives_a_polite_message_and_no_pause(monkeypatch, tmp_path):
    monkeypatch.setenv("KEFU_HANDOFF_URL", "http://127.0.0.1:9")  # nothing listens there
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, tracker("request_human", "转人工", [user("request_human", "转人工")]), {})
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_unavailable"]


def in_form(form: str | None) -> Tracker:
    state = tracker("request_human", "转人工", [user("request_human", "转人工")],
                    slots={"requested_slot": "return_reason"} if form else {}).current_state()
    state["active_loop"] = {"name": form} if form else {}
    return Tracker.from_dict(state)


async def queued(ticket):
    return {"status": "queued", "queue_position": 2, "estimated_wait_seconds": 130}


async def test_handoff_closes_an_active_form_before_pausing(monkeypatch):
    monkeypatch.setattr("actions.handoff.post_ticket", queued)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, in_form("return_form"), {})
    assert events == [{"event": "active_loop", "name": None, "timestamp": None},
                      {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None},
                      {"event": "pause", "timestamp": None}]
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert dispatcher.messages[0]["ahead"] == 1 and dispatcher.messages[0]["wait_minutes"] == 2


async def test_handoff_without_a_form_only_pauses(monkeypatch):
    monkeypatch.setattr("actions.handoff.post_ticket", queued)
    events = await ActionHandoff().run(CollectingDispatcher(), in_form(None), {})
    assert [e["event"] for e in events] == ["pause"]


async def test_failed_handoff_leaves_the_form_running(monkeypatch):
    monkeypatch.setenv("KEFU_HANDOFF_URL", "http://127.0.0.1:9")
    events = await ActionHandoff().run(CollectingDispatcher(), in_form("return_form"), {})
    assert events == []
