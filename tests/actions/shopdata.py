"""A small hand-made shop for the action tests: one order per state and refusal."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict

from actions.shop.models import shop_now

BUYER_PHONE = "13800006621"
OTHER_PHONE = "13900001234"

# order_no -> what it is for
ORDERS = {
    "unpaid": "1000000000000000001",
    "paid": "1000000000000000002",       # 待发货, paid by 微信支付
    "picked": "1000000000000000003",     # 已发货
    "transit": "1000000000000000004",    # 运输中, updated 5 hours ago
    "delayed": "1000000000000000005",    # 运输中, no update for 3 days
    "delivering": "1000000000000000006",
    "fresh": "1000000000000000007",      # 已签收 2 days ago: 卫衣 灰色 M
    "old": "1000000000000000008",        # 已签收 10 days ago
    "underwear": "1000000000000000009",  # 已签收 1 day ago: 内裤 (not returnable)
    "refunding": "1000000000000000010",  # 退款中 (cancelled, refund under way)
    "refunded": "1000000000000000011",   # 已退款
    "done": "1000000000000000012",       # 已完成, 40 days ago
    "cancelled": "1000000000000000013",  # 已取消, never paid
    "others": "2000000000000000001",     # another customer's order
}


def _t(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def build() -> Dict[str, Any]:
    now = shop_now().replace(microsecond=0)
    ago = lambda **kw: _t(now - dt.timedelta(**kw))  # noqa: E731

    def order(key, status, created, items, customer="C1", **extra):
        record = {
            "order_no": ORDERS[key], "customer": customer, "status": status,
            "payment_channel": "微信支付", "receiver_name": "张伟",
            "receiver_phone": BUYER_PHONE if customer == "C1" else OTHER_PHONE,
            "address": "浙江省杭州市西湖区文三路100号阳光小区3幢1单元501室",
            "shipping_fee": 0, "created_at": created, "items": items,
        }
        record.update(extra)
        return record

    def parcel(tracking, shipped, events):
        return {"carrier": "中通", "tracking_no": tracking, "shipped_at": shipped,
                "events": [{"time": t, "place": p, "text": f"【{p}】{x}"} for t, p, x in events]}

    hoodie = {"product": "卫衣", "size": "M", "colour": "灰色", "quantity": 1, "unit_price": 199}
    fryer = {"product": "空气炸锅", "size": "", "colour": "白色", "quantity": 1, "unit_price": 399}
    pants = {"product": "内裤", "size": "M", "colour": "", "quantity": 2, "unit_price": 69}
    products = [
        {"name": "卫衣", "aliases": ["帽衫"], "category": "服装", "price": 199, "returnable": True,
         "usage_guide": {"洗涤保养": "翻面机洗，水温不超过30℃。", "尺码建议": "版型偏宽松。"},
         "variants": [{"size": s, "colour": "灰色", "stock": {"M": 5, "L": 8, "XL": 0}[s]} for s in ("M", "L", "XL")]},
        {"name": "空气炸锅", "aliases": ["炸锅"], "category": "厨房电器", "price": 399, "returnable": True,
         "usage_guide": {"首次使用": "第一次使用先空烧：200℃运行10分钟。", "清洁保养": "炸篮用海绵加洗洁精清洗。"},
         "variants": [{"size": "", "colour": "白色", "stock": 10}]},
        {"name": "内裤", "aliases": ["底裤"], "category": "内衣", "price": 69, "returnable": False,
         "nonreturnable_reason": "贴身衣物出于卫生原因", "usage_guide": {"洗涤保养": "单独冷水手洗。"},
         "variants": [{"size": "M", "colour": "", "stock": 3}]},
    ]
    customers = [
        {"id": "C1", "name": "张伟", "phone": BUYER_PHONE, "vip_tier": "金卡会员", "created_at": ago(days=400)},
        {"id": "C2", "name": "李娜", "phone": OTHER_PHONE, "created_at": ago(days=100)},
    ]
    orders = [
        order("unpaid", "待付款", ago(hours=2), [fryer], payment_channel=None),
        order("paid", "待发货", ago(hours=5), [fryer], paid_at=ago(hours=5)),
        order("picked", "已发货", ago(hours=20), [fryer], paid_at=ago(hours=20), shipped_at=ago(hours=3),
              shipment=parcel("ZT0000000000003", ago(hours=3), [(ago(hours=3), "杭州市", "中通快递员已揽收")])),
        order("transit", "运输中", ago(days=2), [fryer], paid_at=ago(days=2), shipped_at=ago(hours=30),
              shipment=parcel("ZT0000000000004", ago(hours=30), [
                  (ago(hours=30), "杭州市", "中通快递员已揽收"),
                  (ago(hours=20), "杭州市", "快件已到达【杭州转运中心】"),
                  (ago(hours=5), "南京市", "快件已到达【南京转运中心】")])),
        order("delayed", "运输中", ago(days=5), [fryer], paid_at=ago(days=5), shipped_at=ago(days=4),
              shipment=parcel("ZT0000000000005", ago(days=4), [
                  (ago(days=4), "杭州市", "中通快递员已揽收"),
                  (ago(days=3), "杭州市", "快件已从【杭州转运中心】发出，下一站【成都转运中心】")])),
        order("delivering", "派送中", ago(days=2), [fryer], paid_at=ago(days=2), shipped_at=ago(days=1),
              shipment=parcel("ZT0000000000006", ago(days=1), [
                  (ago(days=1), "杭州市", "中通快递员已揽收"),
                  (ago(hours=1), "杭州市", "快递员王师傅正在为您派件")])),
        order("fresh", "已签收", ago(days=5), [hoodie, fryer], paid_at=ago(days=5), shipped_at=ago(days=4),
              delivered_at=ago(days=2),
              shipment=parcel("ZT0000000000007", ago(days=4), [
                  (ago(days=4), "杭州市", "中通快递员已揽收"), (ago(days=2), "杭州市", "快件已签收，签收人：本人")])),
        order("old", "已签收", ago(days=13), [hoodie], paid_at=ago(days=13), shipped_at=ago(days=12),
              delivered_at=ago(days=10),
              shipment=parcel("ZT0000000000008", ago(days=12), [(ago(days=10), "杭州市", "快件已签收")])),
        order("underwear", "已签收", ago(days=3), [pants], paid_at=ago(days=3), shipped_at=ago(days=2),
              delivered_at=ago(days=1),
              shipment=parcel("ZT0000000000009", ago(days=2), [(ago(days=1), "杭州市", "快件已签收")])),
        order("refunding", "退款中", ago(days=1), [fryer], paid_at=ago(days=1), cancelled_at=ago(hours=20),
              refunds=[{"amount": 399, "channel": "微信支付", "state": "退款中", "reason": "取消订单",
                        "created_at": ago(hours=20)}]),
        order("refunded", "已退款", ago(days=9), [fryer], payment_channel="支付宝", paid_at=ago(days=9),
              cancelled_at=ago(days=8),
              refunds=[{"amount": 399, "channel": "支付宝", "state": "已退款", "reason": "取消订单",
                        "created_at": ago(days=8), "completed_at": ago(days=7)}]),
        order("done", "已完成", ago(days=40), [fryer], paid_at=ago(days=40), shipped_at=ago(days=39),
              delivered_at=ago(days=37), completed_at=ago(days=30),
              shipment=parcel("ZT0000000000012", ago(days=39), [(ago(days=37), "杭州市", "快件已签收")])),
        order("cancelled", "已取消", ago(days=3), [fryer], payment_channel=None, cancelled_at=ago(days=3)),
        order("others", "待发货", ago(hours=1), [fryer], customer="C2", paid_at=ago(hours=1)),
    ]
    return {"products": products, "customers": customers, "orders": orders}
