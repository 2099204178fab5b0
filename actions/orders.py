"""Order status, parcel tracking and urging a shipment."""
from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.policy import figure
from actions.shop.models import DELIVERED_STATES, IN_TRANSIT_STATES, Order
from actions.verification import OrderAction, masked, order_action, repository
from actions.wording import delay_apology, is_delayed, status_text, tracking_text

logger = logging.getLogger(__name__)


def _refunds_line(order: Order) -> str:
    if order.status in ("退款中", "已退款", "已取消") and order.refunds:
        refund = order.refunds[-1]
        return f"退款 ¥{refund.amount:.2f} {refund.state}（退回{refund.channel}），想看到账时间可以问我「退款到哪了」。"
    return ""


@order_action
class ActionCheckOrderStatus(OrderAction):
    def name(self) -> Text:
        return "action_check_order_status"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        text = status_text(order, str(figure("ship_within_hours")))
        if order.shipment is not None and order.status in IN_TRANSIT_STATES + DELIVERED_STATES:
            text += "\n" + tracking_text(order)
            if order.status in IN_TRANSIT_STATES and is_delayed(order.shipment):
                text += "\n" + delay_apology(order)
        extra = _refunds_line(order)
        if extra:
            text += "\n" + extra
        dispatcher.utter_message(text=text)
        return []


@order_action
class ActionTrackShipment(OrderAction):
    def name(self) -> Text:
        return "action_track_shipment"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        if order.shipment is None:
            if order.status in ("待付款", "待发货"):
                dispatcher.utter_message(text=(
                    f"亲，订单 {order.order_no} 还没有发货哦，暂时没有物流信息。"
                    f"付款后{figure('ship_within_hours')}小时内发出，发货后就能查到物流啦。"))
            else:
                dispatcher.utter_message(text=f"亲，订单 {order.order_no} {order.status}，没有发出包裹，所以没有物流信息哦。")
            return []
        text = f"亲，订单 {order.order_no} 的物流信息如下：\n" + tracking_text(order)
        if order.status in IN_TRANSIT_STATES and is_delayed(order.shipment):
            text += "\n" + delay_apology(order)
        elif order.status in DELIVERED_STATES:
            text += "\n包裹已签收，如果您没有收到，请回复「没收到货」，小美帮您转人工核实。"
        dispatcher.utter_message(text=text)
        return []


@order_action
class ActionUrgeShipment(OrderAction):
    def name(self) -> Text:
        return "action_urge_shipment"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        repo = repository()
        hours = figure("ship_within_hours")
        if order.status == "待付款":
            dispatcher.utter_message(text=f"亲，订单 {order.order_no} 还没有付款哦，付款后{hours}小时内就会发货，{figure('cutoff_time')}前付款一般当天发出~")
            return []
        if order.status == "待发货":
            await repo.record_urge(order.order_no, "买家催发货")
            logger.info("urge recorded for order %s (not shipped)", masked(order.order_no))
            dispatcher.utter_message(text=(
                f"亲，已经帮您登记催发货啦 ✅ 仓库会优先处理订单 {order.order_no}，"
                f"承诺付款后{hours}小时内发出，{figure('cutoff_time')}前付款的订单一般当天发。"
                "发货后您随时问我「快递到哪了」就能看到物流。"))
            return []
        if order.status in IN_TRANSIT_STATES and order.shipment is not None:
            delayed = is_delayed(order.shipment)
            if delayed:
                await repo.record_urge(order.order_no, "物流超过48小时未更新，买家催件")
                logger.info("urge recorded for order %s (delayed parcel)", masked(order.order_no))
                intro = (f"非常抱歉让您久等了 🙏 已登记催件，客服会在24小时内联系{order.shipment.carrier}核实包裹位置，"
                         "有结果会第一时间通知您。当前物流：\n")
            else:
                intro = "亲，您的包裹已经在路上啦，正常运输中，不用着急哦~ 当前物流：\n"
            dispatcher.utter_message(text=intro + tracking_text(order))
            return []
        if order.status in DELIVERED_STATES:
            dispatcher.utter_message(text=f"亲，订单 {order.order_no} 已经签收了哦。如果您没有收到包裹，请回复「没收到货」，小美帮您转人工核实。")
            return []
        dispatcher.utter_message(text=f"亲，订单 {order.order_no} 当前状态是「{order.status}」，不需要催发货哦。")
        return []
