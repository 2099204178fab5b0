"""Hostile text reaching the real custom actions (trackers via Tracker.from_dict, real SQLite shop).

Rasa passes whatever the shopper typed; every action must answer politely
(or ask again), never raise, never run the text as SQL, never reveal another
buyer's data.
"""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.address import ActionAskAddressConfirmed, ActionSubmitAddressChange, ValidateAddressForm
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionHandoff
from actions.orders import ActionCheckOrderStatus, ActionTrackShipment
from actions.usage import ActionAskProductUsage
from actions.verification import ValidateVerifyOrderForm
from tests.actions.conftest import make_tracker, slot_events, texts, verified
from tests.actions.shopdata import BUYER_PHONE, ORDERS, OTHER_PHONE

HOSTILE = {
    "100kb": "查订单" * 34_000,
    "empty": "",
    "control": "\x00\x1b[2J\x07订单\x7f",
    "surrogate": "订单\ud800号",
    "xss": '<script>alert(1)</script><img src=x onerror=alert(document.cookie)>',
    "sql": "1000000000000000002' OR '1'='1'; DROP TABLE orders; --",
    "long_digits": "9" * 960,
    "emoji": "😡😡😡💢 订单呢！！！",
}
DOMAIN = {"forms": {"verify_order_form": {"required_slots": ["order_id", "phone_tail"]}},
          "responses": {"utter_ask_rephrase": [{"text": "y"}]}}


async def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


def count_orders(url: str) -> int:
    with create_engine(url).connect() as conn:
        return conn.execute(text("select count(*) from orders")).scalar_one()


def said_something(dispatcher: CollectingDispatcher) -> bool:
    return any(m.get("text") or m.get("response") for m in dispatcher.messages)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_order_actions_answer_hostile_text_politely(shop_db, kind):
    body = HOSTILE[kind]
    before = count_orders(shop_db)
    # Asked for the order number, the shopper sends this.
    dispatcher, events = await run(ValidateVerifyOrderForm(), make_tracker(
        body, intent="inform", active_loop="verify_order_form", slots={"requested_slot": "order_id"}))
    assert slot_events(events).get("verified_order_id") is None
    if kind == "long_digits":
        assert slot_events(events)["order_id"] is None and "16到19位" in texts(dispatcher)
    # Unverified questions start verification; verified ones get the order, whatever the text says.
    dispatcher, events = await run(ActionCheckOrderStatus(), make_tracker(body, slots={"order_id": body[:200]}))
    assert said_something(dispatcher) or any(e.get("event") == "active_loop" for e in events)
    dispatcher, _ = await run(ActionTrackShipment(), make_tracker(body, intent="track_shipment", slots=verified("transit")))
    assert said_something(dispatcher)
    shown = texts(dispatcher)
    assert OTHER_PHONE not in shown and ORDERS["others"] not in shown and BUYER_PHONE not in shown
    assert count_orders(shop_db) == before


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_faq_and_usage_answer_hostile_text(shop_db, kind):
    body = HOSTILE[kind]
    dispatcher, _ = await run(ActionAnswerFaq(), make_tracker(body, intent="faq"))
    assert said_something(dispatcher)
    dispatcher, _ = await run(ActionAskProductUsage(), make_tracker(body, intent="ask_product_usage",
                                                                    entities=[{"entity": "product", "value": body[:100]}]))
    assert said_something(dispatcher)


@pytest.mark.parametrize("kind", ["xss", "sql", "control", "surrogate"])
async def test_hostile_address_is_stored_as_plain_text_or_refused(shop_db, kind):
    address = "浙江省杭州市西湖区文三路100号" + HOSTILE[kind]
    dispatcher = CollectingDispatcher()
    accepted = ValidateAddressForm().validate_new_address(address, dispatcher, None, {})["new_address"]
    if accepted is None:
        assert "地址" in texts(dispatcher)
        return
    dispatcher, _ = await run(ActionAskAddressConfirmed(), make_tracker("", slots={"new_address": accepted}))
    assert accepted in texts(dispatcher)  # shown back as text, for the shopper to confirm
    dispatcher, _ = await run(ActionSubmitAddressChange(), make_tracker(
        "是", intent="affirm", slots=verified("paid", new_address=accepted, address_confirmed=True)))
    assert "改好啦" in texts(dispatcher)
    with create_engine(shop_db).connect() as conn:
        stored = conn.execute(text("select address from orders where order_no = :n"), {"n": ORDERS["paid"]}).scalar_one()
        assert conn.execute(text("select count(*) from orders")).scalar_one() == 14  # nothing dropped or added
    assert stored == accepted.encode("utf-8", "replace").decode("utf-8")


async def test_handoff_with_hostile_slots_still_creates_a_clean_ticket(service):
    """A 960-digit order slot and script in the text: the ticket is made, the bad order left out."""
    from tests.handoff.conftest import auth, login

    tracker = make_tracker(HOSTILE["xss"] + " 转人工", intent="request_human",
                           slots={"order_id": HOSTILE["long_digits"], "customer_id": "<b>1</b>", "vip_tier": "' OR 1=1"})
    dispatcher, events = await run(ActionHandoff(), tracker)
    assert any(e.get("event") == "pause" for e in events)  # handed over, conversation paused
    agent = await login(service.client, "logi1")
    queue = (await (await service.client.get("/api/queue", headers=auth(agent))).json())["queue"]
    assert [t["conversation_id"] for t in queue] == ["test-shopper"]
    assert queue[0]["order"] is None or queue[0]["order"].get("id") != HOSTILE["long_digits"]
    assert said_something(dispatcher)
