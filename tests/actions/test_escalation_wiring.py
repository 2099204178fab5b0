"""Escalation wiring in the shop actions: the verified buyer on tickets, an apology before answers."""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.empathy import EmpathyFirst
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandoff
from actions.orders import ActionCheckOrderStatus, ActionTrackShipment
from actions.returns import ActionRequestReturn
from actions.usage import ActionAskProductUsage
from actions.verification import ValidateVerifyOrderForm
from bot.emotion import score_message
from tests.actions.conftest import slot_events, verified
from tests.actions.shopdata import ORDERS

DOMAIN = {"forms": {"verify_order_form": {"required_slots": ["order_id", "phone_tail"]}},
          "responses": {"utter_faq/shipping_fee": [{"text": "x"}], "utter_ask_rephrase": [{"text": "y"}]}}
IMPATIENT = "快递怎么还没到呀，急用"
CALM = "帮我查一下物流"


def shopper_says(text: str, intent: str = "track_shipment", slots: Optional[Dict[str, Any]] = None,
                 active_loop: Optional[str] = None, **latest: Any) -> Tracker:
    """A tracker whose latest message carries the EmotionScorer's reading, as Rasa sends it."""
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": [],
             "emotion": score_message(text).as_dict(), **latest}
    return Tracker.from_dict({
        "sender_id": "test-shopper", "slots": dict(slots or {}), "latest_message": parse,
        "events": [{"event": "user", "text": text, "parse_data": parse}],
        "paused": False, "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {}, "latest_action_name": "action_listen",
    })


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, events


def test_the_test_messages_read_as_intended():
    assert score_message(IMPATIENT).label == "impatient"
    assert score_message(CALM).label == "calm"


# ------------------------------------------------------------------ the verified buyer on the ticket
async def test_verification_sets_customer_and_vip_tier(shop_db):
    tracker = shopper_says(f"订单{ORDERS['paid']} 尾号6621", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id"})
    _, events = await run(ValidateVerifyOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["verified_order_id"] == ORDERS["paid"]
    assert slots["customer_id"] == slots["verified_customer_id"] and slots["customer_id"]
    assert slots["vip_tier"] == "金卡会员"


async def test_failed_verification_sets_no_customer(shop_db):
    tracker = shopper_says(f"订单{ORDERS['paid']} 尾号0000", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id"})
    _, events = await run(ValidateVerifyOrderForm(), tracker)
    slots = slot_events(events)
    assert "customer_id" not in slots and "vip_tier" not in slots


async def test_verifying_a_second_order_sets_its_buyer_too(shop_db):
    slots = {**verified("paid"), "order_id": ORDERS["transit"], "phone_tail": "6621"}
    _, events = await run(ActionCheckOrderStatus(), shopper_says(f"再查下{ORDERS['transit']}", "check_order_status", slots))
    got = slot_events(events)
    assert got["verified_order_id"] == ORDERS["transit"] and got["vip_tier"] == "金卡会员"


async def test_handoff_ticket_carries_the_verified_customer_and_tier(shop_db, monkeypatch):
    sent: list[dict] = []

    async def accept(ticket):
        sent.append(ticket)
        return {"status": "queued", "queue_position": 1, "estimated_wait_seconds": 60}

    monkeypatch.setattr("actions.handoff.post_ticket", accept)
    # Verified earlier; no order named in this conversation's order_id slot.
    tracker = shopper_says("转人工", "request_human", {"customer_id": "1", "vip_tier": "金卡会员"})
    await run(ActionHandoff(), tracker)
    assert sent[0]["customer"] == {"id": "1", "vip_tier": "金卡会员"}
    assert sent[0]["reason"] == "explicit_request"


# ------------------------------------------------------------------ empathy before answers
async def test_impatient_order_question_gets_the_apology_first(shop_db):
    messages, _ = await run(ActionTrackShipment(), shopper_says(IMPATIENT, slots=verified("transit")))
    assert messages[0]["text"].startswith("让您久等了，理解您着急的心情，")
    assert ORDERS["transit"] in messages[0]["text"]  # one bubble: apology, then the answer


async def test_calm_order_question_gets_no_apology(shop_db):
    messages, _ = await run(ActionTrackShipment(), shopper_says(CALM, slots=verified("transit")))
    assert messages[0]["text"].startswith(f"亲，订单 {ORDERS['transit']} 的物流信息")
    assert not any("抱歉" in (m.get("text") or "") or "久等" in (m.get("text") or "") for m in messages)


async def test_impatient_unverified_shopper_hears_the_apology_before_verification(shop_db):
    messages, events = await run(ActionCheckOrderStatus(), shopper_says("我的订单到底发货了没有啊，急用", "check_order_status"))
    assert "理解您着急的心情" in messages[0]["text"] and "核对一下身份" in messages[0]["text"]
    assert any(e["event"] == "active_loop" for e in events)


async def test_upset_shopper_starting_a_return_hears_the_apology_before_the_form(shop_db):
    tracker = shopper_says("收到的卫衣破了个洞，太让人失望了", "request_return", verified("fresh"))
    messages, events = await run(ActionRequestReturn(), tracker)
    assert any(e["event"] == "active_loop" and e.get("name") == "return_form" for e in events)
    # The action itself says nothing else; the form asks next, so the apology goes now, on its own.
    assert [m["text"] for m in messages] == ["非常抱歉给您带来不好的体验，小美马上为您处理~"]
    calm, _ = await run(ActionRequestReturn(), shopper_says("我要退货", "request_return", verified("fresh")))
    assert calm == []


async def test_faq_answer_to_an_impatient_shopper_starts_with_a_separate_apology():
    selector = {"response_selector": {"faq": {"response": {"intent_response_key": "faq/shipping_fee",
                                                           "confidence": 0.9}}}}
    messages, _ = await run(ActionAnswerFaq(), shopper_says("运费多少啊，急用", "faq", **selector))
    assert len(messages) == 2
    assert "理解您着急的心情" in messages[0]["text"] and messages[1]["response"] == "utter_faq/shipping_fee"


async def test_faq_answer_to_a_calm_shopper_is_just_the_answer():
    selector = {"response_selector": {"faq": {"response": {"intent_response_key": "faq/shipping_fee",
                                                           "confidence": 0.9}}}}
    messages, _ = await run(ActionAnswerFaq(), shopper_says("运费多少钱", "faq", **selector))
    assert [m["response"] for m in messages] == ["utter_faq/shipping_fee"]


async def test_usage_answer_to_a_frustrated_shopper_starts_with_the_apology(shop_db):
    messages, _ = await run(ActionAskProductUsage(),
                            shopper_says("空气炸锅第一次怎么用啊，说明书根本看不懂，无语", "ask_product_usage"))
    assert messages[0]["text"].startswith("非常抱歉")
    assert "空气炸锅【首次使用】" in messages[0]["text"]
    calm, _ = await run(ActionAskProductUsage(), shopper_says("空气炸锅第一次怎么用", "ask_product_usage"))
    assert calm[0]["text"].startswith("亲，空气炸锅【首次使用】")


def test_empathy_first_apologises_once_and_not_twice():
    inner = CollectingDispatcher()
    dispatcher = EmpathyFirst(inner, shopper_says(IMPATIENT))
    dispatcher.utter_message(text="非常抱歉让您久等了 🙏 已登记催件")
    dispatcher.utter_message(text="亲，当前物流：杭州")
    assert [m["text"] for m in inner.messages] == ["非常抱歉让您久等了 🙏 已登记催件", "亲，当前物流：杭州"]
