"""The shop's return and exchange rules, as plain functions of an order item.

No-reason returns: within return_days of delivery, not for non-returnable
categories (fresh food, underwear, custom-made ...). Quality problems (damaged,
defective, wrong or missing items) skip both limits. Exchanges need the
wanted size/colour in stock.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional, Tuple

from actions.policy import figure
from actions.shop.models import Order, OrderItem, shop_now

QUALITY_WORDS = ("坏", "碎", "破", "裂", "漏", "瑕疵", "质量", "发错", "错发", "少发", "漏发", "少了",
                 "不能用", "用不了", "故障", "不工作", "划痕", "变形", "过期", "变质", "死", "烂", "次品", "假货")


def is_quality_issue(reason: str) -> bool:
    return any(word in (reason or "") for word in QUALITY_WORDS)


def days_since_delivery(order: Order, now: Optional[dt.datetime] = None) -> Optional[float]:
    if order.delivered_at is None:
        return None
    return ((now or shop_now()) - order.delivered_at).total_seconds() / 86400


def return_refusal(order: Order, item: OrderItem, quality: bool, kind: str = "退货",
                   now: Optional[dt.datetime] = None) -> Optional[str]:
    """Why this item cannot be returned/exchanged, or None when it can."""
    if quality:
        return None
    product = item.product
    if not product.returnable:
        return (f"抱歉亲，{product.name}属于{product.nonreturnable_reason or '特殊商品'}，不支持七天无理由{kind}哦。"
                "如果收到的商品有质量问题、破损或发错，可以告诉我具体情况，我们照样为您处理。")
    days = int(figure("return_days"))
    since = days_since_delivery(order, now)
    if since is not None and since > days:
        return (f"抱歉亲，订单签收已经{int(since)}天了，超过了{days}天无理由{kind}的期限 😣 "
                "如果是质量问题（保修期内），可以告诉我具体情况，我们为您处理维修或换新。")
    return None


def shipping_payer(quality: bool) -> Tuple[str, str]:
    """(who pays, sentence for the shopper) for the return parcel."""
    if quality:
        allowance = figure("return_shipping_allowance")
        return "商家", f"因为是质量问题，退回运费由我们承担：请先垫付，退款时会补您{allowance}元运费。"
    insurance = figure("shipping_insurance")
    return "买家", f"七天无理由退换的寄回运费由您承担；如果下单时买了{insurance}，运费由{insurance}赔付，退款后自动到账。"
