"""Verification, order status, tracking and urging against a real SQLite shop."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.faq import ActionAnswerFaq
from actions.orders import ActionCheckOrderStatus, ActionTrackShipment, ActionUrgeShipment
from actions.verification import ActionResumeRequest, ValidateVerifyOrderForm
from tests.actions.conftest import make_tracker, slot_events, texts, verified
from tests.actions.shopdata import ORDERS

DOMAIN = {"forms": {"verify_order_form": {"required_slots": ["order_id", "phone_tail"]}},
          "responses": {"utter_faq/shipping_fee": [{"text": "x"}], "utter_ask_rephrase": [{"text": "y"}]}}


async def run(action, tracker, domain=DOMAIN):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


# ------------------------------------------------------------------ faq
def faq_message(key, confidence=0.9):
    return {"response_selector": {"faq": {"response": {"intent_response_key": key, "confidence": confidence}}}}


async def test_faq_passes_policy_figures_to_the_response():
    tracker = make_tracker("包邮吗", intent="faq")
    tracker.latest_message.update(faq_message("faq/shipping_fee"))
    dispatcher, events = await run(ActionAnswerFaq(), tracker)
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_faq/shipping_fee"
    assert message["free_shipping_threshold"] == "99"
    assert message["return_address"].startswith("浙江省杭州市")


async def test_faq_unsure_or_missing_key_asks_to_rephrase():
    for latest in (faq_message("faq/shipping_fee", confidence=0.1), {}, faq_message("faq/unknown_key")):
        tracker = make_tracker("嗯？", intent="faq")
        tracker.latest_message.update(latest)
        dispatcher, _ = await run(ActionAnswerFaq(), tracker)
        assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


# ------------------------------------------------------------------ verification
async def test_unverified_question_starts_verification_form(shop_db):
    dispatcher, events = await run(ActionCheckOrderStatus(), make_tracker("我的订单发货了吗"))
    assert {"event": "active_loop", "name": "verify_order_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events if e["event"] == "active_loop"]
    assert slot_events(events)["pending_request"] == "action_check_order_status"
    assert ORDERS["paid"] not in texts(dispatcher)  # nothing shown yet


async def test_form_verifies_order_and_tail_given_in_one_message(shop_db):
    tracker = make_tracker(f"订单{ORDERS['paid']} 尾号6621", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id"})
    dispatcher, events = await run(ValidateVerifyOrderForm(), tracker)
    slots = slot_events(events)
    assert slots["verified_order_id"] == ORDERS["paid"]
    assert slots["phone_tail"] == "6621" and slots["verify_failures"] == 0


async def test_form_accepts_bare_numbers_in_any_order(shop_db):
    tracker = make_tracker("6621", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "phone_tail"})
    _, events = await run(ValidateVerifyOrderForm(), tracker)
    assert slot_events(events)["phone_tail"] == "6621"
    tracker = make_tracker(f"{ORDERS['transit']}", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id", "phone_tail": "6621"})
    _, events = await run(ValidateVerifyOrderForm(), tracker)
    assert slot_events(events)["verified_order_id"] == ORDERS["transit"]


async def test_malformed_order_number_is_explained(shop_db):
    tracker = make_tracker("12345678", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id"})
    dispatcher, events = await run(ValidateVerifyOrderForm(), tracker)
    assert slot_events(events)["order_id"] is None
    assert "16到19位" in texts(dispatcher)


async def test_wrong_phone_and_other_customers_order_are_refused_then_locked(shop_db):
    slots = {"requested_slot": "phone_tail", "order_id": ORDERS["others"]}
    for attempt in (1, 2):
        tracker = make_tracker("6621", intent="inform", active_loop="verify_order_form",
                               slots={**slots, "verify_failures": attempt - 1})
        dispatcher, events = await run(ValidateVerifyOrderForm(), tracker)
        result = slot_events(events)
        assert result["verify_failures"] == attempt and "verified_order_id" not in result
        assert "对不上" in texts(dispatcher) and ORDERS["others"] not in texts(dispatcher).replace(
            "订单号和手机尾号", "")
    tracker = make_tracker("6621", intent="inform", active_loop="verify_order_form",
                           slots={**slots, "verify_failures": 2})
    _, events = await run(ValidateVerifyOrderForm(), tracker)
    result = slot_events(events)
    assert result["verification_locked"] is True and result["requested_slot"] is None
    # No handoff yet: the shopper is offered a human first (utter_verification_locked).
    assert "handoff_reason" not in result


async def test_unknown_order_number_counts_as_a_failed_try(shop_db):
    tracker = make_tracker("9999999999999999", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "order_id", "phone_tail": "6621"})
    dispatcher, events = await run(ValidateVerifyOrderForm(), tracker)
    assert slot_events(events) ["verify_failures"] == 1
    assert "没有查到订单号" in texts(dispatcher)


async def test_locked_conversation_gets_no_lookup(shop_db):
    dispatcher, events = await run(ActionTrackShipment(), make_tracker(
        "快递到哪了", slots={**verified("transit"), "verification_locked": True}))
    assert events == [] and "ZT0000000000004" not in texts(dispatcher)
    assert "转人工" in texts(dispatcher)


async def test_resume_answers_the_remembered_question(shop_db):
    tracker = make_tracker("6621", intent="inform", slots={
        **verified("transit"), "pending_request": "action_track_shipment"})
    dispatcher, events = await run(ActionResumeRequest(), tracker)
    assert "ZT0000000000004" in texts(dispatcher)
    assert slot_events(events)["pending_request"] is None


# ------------------------------------------------------------------ status & tracking
async def test_status_in_words_for_every_state(shop_db):
    expected = {
        "unpaid": "还没有付款", "paid": "正在仓库打包", "picked": "已经发货", "transit": "运输途中",
        "delivering": "正在派送", "fresh": "已经签收", "done": "已经完成", "cancelled": "已经取消",
        "refunding": "正在退款", "refunded": "已经退款完成",
    }
    for key, words in expected.items():
        dispatcher, _ = await run(ActionCheckOrderStatus(), make_tracker("订单状态", slots=verified(key)))
        assert words in texts(dispatcher), key


async def test_status_of_a_shipped_order_shows_carrier_and_tracking(shop_db):
    dispatcher, _ = await run(ActionCheckOrderStatus(), make_tracker("到哪了", slots=verified("transit")))
    said = texts(dispatcher)
    assert "中通" in said and "ZT0000000000004" in said and "南京转运中心" in said
    assert "没有更新物流" not in said


async def test_delayed_parcel_gets_apology_and_offer_to_chase(shop_db):
    dispatcher, _ = await run(ActionTrackShipment(), make_tracker("快递到哪了", slots=verified("delayed")))
    said = texts(dispatcher)
    assert "没有更新物流" in said and "抱歉" in said and "催" in said


async def test_tracking_before_shipment_says_when_it_ships(shop_db):
    dispatcher, _ = await run(ActionTrackShipment(), make_tracker("物流", slots=verified("paid")))
    assert "还没有发货" in texts(dispatcher) and "48小时" in texts(dispatcher)


async def test_latest_order_when_verified(shop_db):
    dispatcher, events = await run(ActionCheckOrderStatus(), make_tracker("最近那单怎么样了", slots=verified("done")))
    # The buyer's most recent order is the unpaid one created two hours ago.
    assert ORDERS["unpaid"] in texts(dispatcher)
    assert slot_events(events)["verified_order_id"] == ORDERS["unpaid"]


async def test_other_order_number_needs_verification_again(shop_db):
    tracker = make_tracker(f"查下{ORDERS['others']}", slots={**verified("paid"), "order_id": ORDERS["others"]})
    dispatcher, events = await run(ActionCheckOrderStatus(), tracker)
    assert any(e["event"] == "active_loop" for e in events)
    assert "李娜" not in texts(dispatcher) and "待发货" not in texts(dispatcher)


# ------------------------------------------------------------------ urge
def urges(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        return conn.execute(text("select count(*) from order_urges")).scalar()


async def test_urge_before_shipment_is_recorded_for_agents(shop_db):
    dispatcher, _ = await run(ActionUrgeShipment(), make_tracker("快点发货", slots=verified("paid")))
    assert "催发货" in texts(dispatcher)
    assert urges(shop_db) == 1


async def test_urge_of_shipped_order_gives_tracking_instead(shop_db):
    dispatcher, _ = await run(ActionUrgeShipment(), make_tracker("催一下", slots=verified("transit")))
    assert "ZT0000000000004" in texts(dispatcher)
    assert urges(shop_db) == 0
    dispatcher, _ = await run(ActionUrgeShipment(), make_tracker("催一下", slots=verified("delayed")))
    assert "已登记催件" in texts(dispatcher) and urges(shop_db) == 1


async def test_database_down_gets_polite_answer(monkeypatch):
    monkeypatch.setenv("KEFU_SHOP_DB_URL", "postgresql://nobody@127.0.0.1:1/none")
    dispatcher, events = await run(ActionCheckOrderStatus(), make_tracker("订单", slots=verified("paid")))
    assert events == [] and "系统暂时有点忙" in texts(dispatcher)
    tracker = make_tracker("6621", intent="inform", active_loop="verify_order_form",
                           slots={"requested_slot": "phone_tail", "order_id": ORDERS["paid"]})
    dispatcher, events = await run(ValidateVerifyOrderForm(), tracker)
    assert "系统暂时有点忙" in texts(dispatcher) and slot_events(events)["requested_slot"] is None
