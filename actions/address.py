"""Changing the delivery address: only before the parcel leaves the warehouse."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import plain_text
from actions.shop.models import NOT_SHIPPED_STATES, Order
from actions.shop.repository import OrderStateChanged, ShopUnavailable
from actions.verification import VERIFIED_ORDER, OrderAction, masked, order_action, repository
from actions.wording import SHOP_UNAVAILABLE

logger = logging.getLogger(__name__)

ADDRESS_MARKERS = "省市区县镇乡村路街道巷弄号栋幢楼单元室"
MAX_ADDRESS_CHARS = 120  # longer is not an address (and would not fit a shipping label)


def looks_like_address(text: str) -> bool:
    """Long enough and names a place and a door: 省/市/区 ... 路/号/室."""
    return len(text) >= 8 and sum(ch in ADDRESS_MARKERS for ch in text) >= 3


@order_action
class ActionChangeAddress(OrderAction):
    def name(self) -> Text:
        return "action_change_address"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        if order.status in NOT_SHIPPED_STATES:
            dispatcher.utter_message(text=f"亲，订单 {order.order_no} 还没发货，可以改地址哦。当前地址：{order.address}")
            return [SlotSet("new_address", None), SlotSet("address_confirmed", None), ActiveLoop("address_form")]
        if order.status in ("已发货", "运输中", "派送中"):
            dispatcher.utter_message(text=(
                f"抱歉亲，订单 {order.order_no} 已经发货了，系统里不能再修改地址 😣 您可以："
                f"\n1. 直接联系{order.shipment.carrier if order.shipment else '快递公司'}（运单号 "
                f"{order.shipment.tracking_no if order.shipment else '见订单详情'}）申请改派到新地址；"
                "\n2. 或者拒收包裹，退回仓库后我们给您退款，再重新下单。"))
            return []
        dispatcher.utter_message(text=f"亲，订单 {order.order_no} 当前是「{order.status}」，已经不需要配送了，地址无法修改哦。")
        return []


class ValidateAddressForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_address_form"

    def validate_new_address(self, value: Any, dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain) -> Dict[Text, Any]:
        text = plain_text(value, MAX_ADDRESS_CHARS) or ""
        if looks_like_address(text):
            return {"new_address": text}
        dispatcher.utter_message(text="亲，地址好像不太完整哦，请按「省 市 区 街道 门牌号」的格式发一下完整地址~")
        return {"new_address": None}


class ActionAskAddressConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_address_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        dispatcher.utter_message(text=(
            f"新的收货地址是：{tracker.get_slot('new_address')}\n确认修改吗？回复「是」确认，回复「不用了」保持原地址。"))
        return []


class ActionSubmitAddressChange(Action):
    def name(self) -> Text:
        return "action_submit_address_change"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("new_address", None), SlotSet("address_confirmed", None)]
        order_no = tracker.get_slot(VERIFIED_ORDER)
        new_address = tracker.get_slot("new_address")
        if not tracker.get_slot("address_confirmed") or not order_no or not new_address:
            dispatcher.utter_message(text="好的亲，收货地址保持不变~ 还有其他可以帮您的吗？")
            return reset
        try:
            await repository().change_address(order_no, new_address)
        except OrderStateChanged as exc:
            dispatcher.utter_message(text=f"抱歉亲，订单刚刚变成了「{exc}」，已经不能改地址了，请回复「转人工」让客服帮您联系快递改派。")
            return reset
        except (ShopUnavailable, LookupError):
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return reset
        logger.info("address changed for order %s", masked(order_no))
        dispatcher.utter_message(text=f"改好啦 ✅ 订单 {order_no} 将寄往：{new_address}")
        return reset
