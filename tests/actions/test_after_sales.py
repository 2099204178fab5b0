"""Address, cancellation, returns, exchanges, refunds and usage against a real SQLite shop."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.address import ActionChangeAddress, ActionSubmitAddressChange, ValidateAddressForm
from actions.cancel import ActionCancelOrder, ActionSubmitCancel
from actions.refunds import ActionCheckRefundStatus
from actions.returns import (
    ActionRequestExchange, ActionRequestReturn, ActionSubmitExchange, ActionSubmitReturn,
    ValidateExchangeForm, ValidateReturnForm,
)
from actions.usage import ActionAskProductUsage
from tests.actions.conftest import make_tracker, slot_events, texts, verified
from tests.actions.shopdata import ORDERS


async def run(action, tracker, domain=None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher, events


def loops(events):
    return [e.get("name") for e in events if e["event"] == "active_loop"]


def query(url, sql):
    with create_engine(url).connect() as conn:
        return conn.execute(text(sql)).fetchall()


# ------------------------------------------------------------------ address
async def test_address_change_before_shipment_is_stored(shop_db):
    _, events = await run(ActionChangeAddress(), make_tracker("改地址", slots=verified("paid")))
    assert loops(events) == ["address_form"]
    dispatcher = CollectingDispatcher()
    assert ValidateAddressForm().validate_new_address("随便", dispatcher, None, {}) == {"new_address": None}
    new = "江苏省南京市鼓楼区中山北路88号2幢301室"
    assert ValidateAddressForm().validate_new_address(new, dispatcher, None, {}) == {"new_address": new}
    dispatcher, _ = await run(ActionSubmitAddressChange(), make_tracker(
        "是", intent="affirm", slots=verified("paid", new_address=new, address_confirmed=True)))
    assert "改好啦" in texts(dispatcher)
    assert query(shop_db, f"select address from orders where order_no='{ORDERS['paid']}'")[0][0] == new
    assert query(shop_db, "select count(*) from address_changes")[0][0] == 1


async def test_address_change_after_shipment_explains_why_not(shop_db):
    dispatcher, events = await run(ActionChangeAddress(), make_tracker("改地址", slots=verified("transit")))
    assert loops(events) == [] and "已经发货" in texts(dispatcher) and "改派" in texts(dispatcher)


# ------------------------------------------------------------------ cancel
async def test_cancel_before_shipment_cancels_and_starts_refund(shop_db):
    _, events = await run(ActionCancelOrder(), make_tracker("取消订单", intent="cancel_order", slots=verified("paid")))
    assert loops(events) == ["cancel_form"]
    dispatcher, _ = await run(ActionSubmitCancel(), make_tracker(
        "是", intent="affirm", slots=verified("paid", cancel_confirmed=True)))
    said = texts(dispatcher)
    assert "已经取消" in said and "399.00" in said and "微信支付" in said and "预计" in said
    assert query(shop_db, "select state, channel from refunds where reason='取消订单' and amount=399 "
                          "and order_id=(select id from orders where order_no='%s')" % ORDERS["paid"]) == [("退款中", "微信支付")]


async def test_cancel_unpaid_order_needs_no_refund(shop_db):
    dispatcher, _ = await run(ActionSubmitCancel(), make_tracker(
        "是", intent="affirm", slots=verified("unpaid", cancel_confirmed=True)))
    assert "已经取消" in texts(dispatcher) and "退款" not in texts(dispatcher)
    assert query(shop_db, f"select status from orders where order_no='{ORDERS['unpaid']}'") == [("已取消",)]


async def test_cancel_declined_keeps_the_order(shop_db):
    dispatcher, _ = await run(ActionSubmitCancel(), make_tracker(
        "不用了", intent="deny", slots=verified("paid", cancel_confirmed=False)))
    assert "保留" in texts(dispatcher)
    assert query(shop_db, f"select status from orders where order_no='{ORDERS['paid']}'") == [("待发货",)]


async def test_cancel_after_shipment_explains_the_return_path(shop_db):
    dispatcher, events = await run(ActionCancelOrder(), make_tracker("取消", slots=verified("transit")))
    assert loops(events) == [] and "拒收" in texts(dispatcher) and "退货" in texts(dispatcher)


# ------------------------------------------------------------------ returns
async def test_return_of_undelivered_order_is_refused(shop_db):
    dispatcher, events = await run(ActionRequestReturn(), make_tracker("退货", slots=verified("paid")))
    assert loops(events) == [] and "取消订单" in texts(dispatcher)


async def test_return_within_seven_days_is_filed_with_rma(shop_db):
    _, events = await run(ActionRequestReturn(), make_tracker("卫衣想退", intent="request_return",
                                                              slots=verified("fresh")))
    assert loops(events) == ["return_form"]
    assert slot_events(events)["return_item"] == "卫衣（灰色 M）"
    slots = verified("fresh", return_item="卫衣（灰色 M）")
    dispatcher = CollectingDispatcher()
    result = await ValidateReturnForm().validate_return_reason("不喜欢了", dispatcher, make_tracker(slots=slots), {})
    assert result == {"return_reason": "不喜欢了", "return_quality": False}
    dispatcher, _ = await run(ActionSubmitReturn(), make_tracker("是", intent="affirm", slots={
        **slots, "return_reason": "不喜欢了", "return_quality": False, "return_confirmed": True}))
    said = texts(dispatcher)
    assert "RMA" in said and "文一西路1888号" in said and "运费由您承担" in said
    assert query(shop_db, "select kind, state, shipping_paid_by from service_requests") == [("退货", "待寄回", "买家")]


async def test_return_after_seven_days_is_refused_but_quality_issue_is_not(shop_db):
    slots = verified("old", return_item="卫衣（灰色 M）")
    dispatcher = CollectingDispatcher()
    result = await ValidateReturnForm().validate_return_reason("尺码不合适", dispatcher, make_tracker(slots=slots), {})
    assert result["return_refused"] is True and "超过了7天" in texts(dispatcher)
    dispatcher = CollectingDispatcher()
    result = await ValidateReturnForm().validate_return_reason("衣服开线了，质量问题", dispatcher, make_tracker(slots=slots), {})
    assert result == {"return_reason": "衣服开线了，质量问题", "return_quality": True}
    required = await ValidateReturnForm().required_slots([], dispatcher, make_tracker(slots={**slots, **result}), {})
    assert "damage_description" in required


async def test_non_returnable_category_is_refused(shop_db):
    slots = verified("underwear", return_item="内裤（M）")
    dispatcher = CollectingDispatcher()
    result = await ValidateReturnForm().validate_return_reason("不想要了", dispatcher, make_tracker(slots=slots), {})
    assert result["return_refused"] is True and "贴身衣物" in texts(dispatcher)
    dispatcher, events = await run(ActionSubmitReturn(), make_tracker(slots={**slots, "return_refused": True}))
    assert dispatcher.messages == [] and query(shop_db, "select count(*) from service_requests")[0][0] == 0


async def test_damaged_report_prefills_a_quality_reason(shop_db):
    tracker = make_tracker("收到的卫衣破了个洞", intent="report_damaged", slots=verified("fresh"))
    _, events = await run(ActionRequestReturn(), tracker)
    assert slot_events(events)["return_reason"] == "收到的卫衣破了个洞"
    assert slot_events(events)["return_item"] == "卫衣（灰色 M）"


async def test_multi_item_order_asks_which_item(shop_db):
    dispatcher = CollectingDispatcher()
    result = await ValidateReturnForm().validate_return_item("那个", dispatcher, make_tracker(slots=verified("fresh")), {})
    assert result == {"return_item": None} and "空气炸锅" in texts(dispatcher)


# ------------------------------------------------------------------ exchanges
async def test_exchange_out_of_stock_offers_what_is_in_stock(shop_db):
    slots = verified("fresh", return_item="卫衣（灰色 M）")
    dispatcher = CollectingDispatcher()
    result = await ValidateExchangeForm().validate_exchange_option("换XL", dispatcher, make_tracker(slots=slots), {})
    assert result == {"exchange_option": None}
    assert "缺货" in texts(dispatcher) and "灰色 L" in texts(dispatcher)


async def test_exchange_in_stock_is_filed(shop_db):
    slots = verified("fresh", return_item="卫衣（灰色 M）")
    dispatcher = CollectingDispatcher()
    result = await ValidateExchangeForm().validate_exchange_option("大一码", dispatcher, make_tracker(slots=slots), {})
    assert result == {"exchange_option": "灰色 L"}
    dispatcher, _ = await run(ActionSubmitExchange(), make_tracker("是", intent="affirm", slots={
        **slots, "exchange_option": "灰色 L", "exchange_confirmed": True}))
    assert "换货申请已提交" in texts(dispatcher)
    assert query(shop_db, "select kind, wanted_size, wanted_colour from service_requests") == [("换货", "L", "灰色")]


async def test_exchange_of_single_variant_or_old_order_is_refused(shop_db):
    _, events = await run(ActionRequestExchange(), make_tracker("换个颜色", slots=verified("old")))
    assert loops(events) == ["exchange_form"]
    dispatcher = CollectingDispatcher()
    result = await ValidateExchangeForm().validate_return_item(
        "卫衣（灰色 M）", dispatcher, make_tracker("换货", slots=verified("old")), {})
    assert result["exchange_refused"] is True and "超过了7天" in texts(dispatcher)


# ------------------------------------------------------------------ refunds
async def test_refund_status_with_expected_arrival(shop_db):
    dispatcher, _ = await run(ActionCheckRefundStatus(), make_tracker("退款到哪了", slots=verified("refunding")))
    said = texts(dispatcher)
    assert "¥399.00" in said and "微信支付" in said and "1-3个工作日" in said and "预计" in said
    dispatcher, _ = await run(ActionCheckRefundStatus(), make_tracker("退款", slots=verified("refunded")))
    assert "退款成功" in texts(dispatcher) and "支付宝" in texts(dispatcher)
    dispatcher, _ = await run(ActionCheckRefundStatus(), make_tracker("退款", slots=verified("transit")))
    assert "没有退款记录" in texts(dispatcher)


# ------------------------------------------------------------------ usage
async def test_usage_answer_from_named_product_guide(shop_db):
    tracker = make_tracker("空气炸锅第一次怎么用", intent="ask_product_usage",
                           entities=[{"entity": "product", "value": "空气炸锅"}])
    dispatcher, events = await run(ActionAskProductUsage(), tracker)
    assert "首次使用" in texts(dispatcher) and "空烧" in texts(dispatcher)
    assert slot_events(events)["product"] == "空气炸锅"


async def test_usage_from_verified_order_and_unknowns(shop_db):
    dispatcher, _ = await run(ActionAskProductUsage(), make_tracker(
        "这个怎么清洗", intent="ask_product_usage", slots=verified("paid")))
    assert "清洁保养" in texts(dispatcher)
    dispatcher, _ = await run(ActionAskProductUsage(), make_tracker("怎么用", intent="ask_product_usage"))
    assert "哪件商品" in texts(dispatcher)
    dispatcher, _ = await run(ActionAskProductUsage(), make_tracker("炸锅能带上飞机吗", intent="ask_product_usage"))
    assert "没有找到" in texts(dispatcher) and "首次使用" in texts(dispatcher)
