"""Cancelling an order: before shipment it is cancelled and refunded."""
from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy import figure
from actions.shop.models import DELIVERED_STATES, IN_TRANSIT_STATES, NOT_SHIPPED_STATES, Order, money
from actions.shop.repository import OrderStateChanged, ShopUnavailable
from actions.verification import VERIFIED_ORDER, OrderAction, masked, order_action, repository
from actions.wording import SHOP_UNAVAILABLE, items_text, refund_text

logger = logging.getLogger(__name__)


@order_action
class ActionCancelOrder(OrderAction):
    def name(self) -> Text:
        return "action_cancel_order"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        if order.status in NOT_SHIPPED_STATES:
            return [SlotSet("cancel_confirmed", None), ActiveLoop("cancel_form")]
        if order.status in IN_TRANSIT_STATES:
            dispatcher.utter_message(text=(
                f"抱歉亲，订单 {order.order_no} 已经发货了，不能直接取消哦。您可以："
                "\n1. 快递送到时直接拒收，包裹退回仓库后我们会原路退款；"
                f"\n2. 或者签收后{figure('return_days')}天内申请七天无理由退货（回复「我要退货」即可办理）。"))
            return []
        if order.status in DELIVERED_STATES:
            dispatcher.utter_message(text=(
                f"亲，订单 {order.order_no} 已经签收了，不能取消订单了。"
                f"签收后{figure('return_days')}天内可以申请退货退款，回复「我要退货」我帮您办理~"))
            return []
        dispatcher.utter_message(text=f"亲，订单 {order.order_no} 当前是「{order.status}」，不需要再取消啦。")
        return []


class ActionAskCancelConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        order_no = tracker.get_slot(VERIFIED_ORDER)
        try:
            order = await repository().get_order(order_no) if order_no else None
        except ShopUnavailable:
            order = None
        if order is None:
            dispatcher.utter_message(text="确认要取消这个订单吗？回复「是」确认取消，「不用了」保留订单。")
            return []
        paid = "，已付款项会原路退回" + (order.payment_channel or "") if order.status == "待发货" else ""
        dispatcher.utter_message(text=(
            f"确认取消订单 {order.order_no}（{items_text(order)}，共¥{money(order.total)}）吗{paid}？"
            "\n回复「是」确认取消，回复「不用了」保留订单。"))
        return []


class ActionSubmitCancel(Action):
    def name(self) -> Text:
        return "action_submit_cancel"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("cancel_confirmed", None)]
        order_no = tracker.get_slot(VERIFIED_ORDER)
        if not tracker.get_slot("cancel_confirmed") or not order_no:
            dispatcher.utter_message(text="好的亲，订单为您保留，我们会尽快发货~")
            return reset
        try:
            refund = await repository().cancel_order(order_no)
        except OrderStateChanged as exc:
            dispatcher.utter_message(text=(
                f"抱歉亲，订单刚刚已经「{exc}」了，不能直接取消。可以拒收包裹或签收后申请退货，回复「我要退货」即可办理。"))
            return reset
        except (ShopUnavailable, LookupError):
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return reset
        logger.info("order %s cancelled (refund=%s)", masked(order_no), bool(refund))
        text = f"订单 {order_no} 已经取消啦 ✅"
        if refund is not None:
            text += "\n" + refund_text(refund)
        dispatcher.utter_message(text=text)
        return reset
