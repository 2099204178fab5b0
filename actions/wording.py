"""How orders, parcels and refunds are put into words for the shopper."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from actions.policy import refund_days
from actions.shop.models import Order, Refund, Shipment, money, shop_now

# A parcel with no tracking update for this long is delayed.
DELAY_AFTER = dt.timedelta(hours=48)
SHOWN_EVENTS = 3

STATUS_WORDS = {
    "待付款": "还没有付款，付款后{ship}小时内发货",
    "待发货": "已付款，正在仓库打包，付款后{ship}小时内发出",
    "已发货": "已经发货啦，快递员已揽收",
    "运输中": "正在运输途中",
    "派送中": "正在派送中，今天就会送到，请保持电话畅通",
    "已签收": "已经签收了",
    "已完成": "已经完成（已签收并确认收货）",
    "已取消": "已经取消了",
    "退款中": "正在退款中",
    "已退款": "已经退款完成",
}

SHOP_UNAVAILABLE = "抱歉亲，订单系统暂时有点忙，小美这会儿查不到数据 😣 请稍等几分钟再问我一次，或者回复「转人工」让人工客服帮您处理。"


def when(value: dt.datetime) -> str:
    """11月8日 14:30 (the year only when it is not this year)."""
    now = shop_now()
    day = f"{value.month}月{value.day}日" if value.year == now.year else f"{value.year}年{value.month}月{value.day}日"
    return f"{day} {value:%H:%M}"


def items_text(order: Order) -> str:
    parts = [f"{item.label}×{item.quantity}" for item in order.items]
    return "、".join(parts)


def status_text(order: Order, ship_hours: str) -> str:
    """One sentence on where the order stands."""
    words = STATUS_WORDS.get(order.status, order.status).format(ship=ship_hours)
    text = f"亲，您的订单 {order.order_no}（{items_text(order)}）{words}。"
    if order.status in ("已签收", "已完成") and order.delivered_at:
        text += f"签收时间：{when(order.delivered_at)}。"
    return text


def is_delayed(shipment: Shipment, now: Optional[dt.datetime] = None) -> bool:
    """No tracking update for 48 hours while the parcel is still on its way."""
    latest = shipment.events[-1].occurred_at if shipment.events else shipment.shipped_at
    return (now or shop_now()) - latest >= DELAY_AFTER


def tracking_text(order: Order) -> str:
    """Carrier, tracking number and the latest events, newest first."""
    shipment = order.shipment
    lines: List[str] = [f"快递公司：{shipment.carrier}，运单号：{shipment.tracking_no}", "最新物流："]
    for event in list(reversed(shipment.events))[:SHOWN_EVENTS]:
        lines.append(f"· {when(event.occurred_at)} {event.text}")
    if not shipment.events:
        lines.append("· 暂时还没有物流记录，揽收后会更新")
    return "\n".join(lines)


def delay_apology(order: Order) -> str:
    shipment = order.shipment
    latest = shipment.events[-1].occurred_at if shipment.events else shipment.shipped_at
    hours = int((shop_now() - latest).total_seconds() // 3600)
    return (f"非常抱歉亲，您的包裹已经{hours}小时没有更新物流了，可能在中转时滞留了 🙏 "
            f"需要的话回复「催一下」，小美马上登记并联系{shipment.carrier}帮您催查。")


def add_working_days(start: dt.datetime, days: int) -> dt.date:
    day = start.date()
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def refund_text(refund: Refund) -> str:
    """State, amount, channel and the expected arrival for one refund."""
    base = f"{refund.reason}退款 ¥{money(refund.amount)}，退回{refund.channel}"
    if refund.state == "已退款":
        done = when(refund.completed_at) if refund.completed_at else "已"
        return f"{base}：已于{done}退款成功，请在{refund.channel}账单里查看哦。"
    if refund.state == "退款失败":
        return f"{base}：退款失败了（原支付账户可能已注销或冻结），请回复「转人工」由客服为您改走其他方式退款。"
    low, high = refund_days(refund.channel)
    first = add_working_days(refund.created_at, low)
    last = add_working_days(refund.created_at, high)
    return (f"{base}：正在退款中，{refund.channel}一般{low}-{high}个工作日到账，"
            f"预计{first.month}月{first.day}日至{last.month}月{last.day}日之间到账。")
