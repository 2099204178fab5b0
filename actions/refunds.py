"""Where a refund stands: state, amount, channel and expected arrival."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.shop.models import Order
from actions.verification import OrderAction, order_action, repository
from actions.wording import refund_text


@order_action
class ActionCheckRefundStatus(OrderAction):
    def name(self) -> Text:
        return "action_check_refund_status"

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        if order.refunds:
            lines = [f"亲，订单 {order.order_no} 的退款情况："]
            lines += [f"· {refund_text(refund)}" for refund in order.refunds]
            dispatcher.utter_message(text="\n".join(lines))
            return []
        request = await repository().open_request(order.order_no)
        if request is not None:
            step = {
                "待审核": "正在审核，审核通过后会把退货地址发给您",
                "待寄回": "等待您寄回商品，仓库收到并验收后就会退款",
                "已寄回": "仓库已收到您的退货，验收通过后马上退款",
            }.get(request.state, request.state)
            dispatcher.utter_message(text=(
                f"亲，订单 {order.order_no} 的{request.kind}申请（{request.rma_no}）{step}，"
                "目前还没有生成退款记录哦。"))
            return []
        dispatcher.utter_message(text=(
            f"亲，订单 {order.order_no} 目前没有退款记录哦（订单状态：{order.status}）。"
            "如果需要退货退款，回复「我要退货」就可以办理。"))
        return []
