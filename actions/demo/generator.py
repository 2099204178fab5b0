"""Deterministic demo shop: 300 customers and 2,000 orders in every state.

generate(seed, now) returns a shop-data document (the same JSON schema the
importer reads, docs/shop-data.md): the same seed and reference time always
give the same shop. Times are relative to ``now`` so parcels in transit look
current whenever the demo is loaded; about one in six in-transit parcels has
had no tracking update for 48 hours or more (delayed).
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from actions.demo.places import (
    CITIES, COMMUNITIES, COURIER_SURNAMES, GIVEN, PHONE_PREFIXES, SURNAMES,
)
from actions.policy import load_policy
from actions.shop.catalogue import carrier_prefix, catalogue_products
from actions.shop.models import shop_now

GUIDES_FILE = Path(__file__).with_name("usage_guides.yml")
DEFAULT_SEED = 20241111

# Share of orders per state (sums to 1).
STATE_WEIGHTS = {
    "待付款": 0.05, "待发货": 0.10, "已发货": 0.06, "运输中": 0.14, "派送中": 0.05,
    "已签收": 0.15, "已完成": 0.30, "已取消": 0.06, "退款中": 0.04, "已退款": 0.05,
}
CHANNEL_WEIGHTS = {"支付宝": 0.45, "微信支付": 0.35, "银行卡": 0.1, "信用卡": 0.1}
VIP_WEIGHTS = {"普通会员": 0.6, "银卡会员": 0.25, "金卡会员": 0.12, "钻石会员": 0.03}
RETURN_REASONS = ["尺码不合适", "颜色和图片有色差", "不喜欢了", "买多了", "质量问题：做工有瑕疵", "收到时商品破损", "发错款式"]


def _iso(value: Optional[dt.datetime]) -> Optional[str]:
    return value.isoformat(timespec="seconds") if value else None


def _pick(rng: random.Random, weights: Dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _DemoShop:
    def __init__(self, seed: int, now: dt.datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now.replace(microsecond=0)
        self.policy = load_policy()
        with GUIDES_FILE.open(encoding="utf-8") as handle:
            self.guides = yaml.safe_load(handle) or {}
        self.products = self._products()
        self.carriers = [c for c in str(self.policy["carriers"]).split("、")]
        self.order_nos: set = set()
        self.tracking_nos: set = set()
        self.rma_nos: set = set()

    # ------------------------------------------------------------ catalogue
    def _products(self) -> List[Dict[str, Any]]:
        products = []
        for entry in catalogue_products():
            sizes = [str(s) for s in entry.get("sizes") or [""]]
            colours = [str(c) for c in entry.get("colours") or [""]]
            variants = []
            for size in sizes:
                for colour in colours:
                    # About one variant in six is sold out (exchanges must check).
                    stock = 0 if self.rng.random() < 0.17 else self.rng.randint(3, 120)
                    variants.append({"size": size, "colour": colour, "stock": stock})
            products.append({
                "name": entry["name"],
                "aliases": [str(a) for a in entry.get("aliases", [])],
                "category": entry["category"],
                "price": entry["price"],
                "returnable": bool(entry.get("returnable", True)),
                "returnable_if_unopened": bool(entry.get("returnable_if_unopened", False)),
                "nonreturnable_reason": entry.get("nonreturnable_reason"),
                "usage_guide": self.guides.get(entry["name"], {}),
                "variants": variants,
            })
        return products

    # ------------------------------------------------------------ people
    def _phone(self, used: set) -> str:
        while True:
            phone = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if phone not in used:
                used.add(phone)
                return phone

    def customers(self, count: int) -> List[Dict[str, Any]]:
        used: set = set()
        people = []
        for i in range(count):
            people.append({
                "id": f"C{i + 1:05d}",
                "name": self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                "phone": self._phone(used),
                "vip_tier": _pick(self.rng, VIP_WEIGHTS),
                "created_at": _iso(self.now - dt.timedelta(days=self.rng.randint(60, 1500))),
                "city": self.rng.choice(CITIES),
            })
        return people

    def _address(self, city) -> str:
        province, name, districts, streets, _hub = city
        head = name if province == name else province + name
        return (f"{head}{self.rng.choice(districts)}{self.rng.choice(streets)}"
                f"{self.rng.randint(1, 999)}号{self.rng.choice(COMMUNITIES)}"
                f"{self.rng.randint(1, 30)}幢{self.rng.randint(1, 3)}单元{self.rng.randint(101, 2802)}室")

    # ------------------------------------------------------------ numbers
    def _order_no(self, created: dt.datetime) -> str:
        while True:
            length = self.rng.choice((16, 18, 19))
            tail = length - 8
            number = f"{created:%Y%m%d}" + f"{self.rng.randrange(10 ** tail):0{tail}d}"
            if number not in self.order_nos:
                self.order_nos.add(number)
                return number

    def _tracking_no(self, carrier: str) -> str:
        prefix = carrier_prefix(carrier)
        while True:
            number = prefix + f"{self.rng.randrange(10 ** 13):013d}"
            if number not in self.tracking_nos:
                self.tracking_nos.add(number)
                return number

    def _rma_no(self, when: dt.datetime) -> str:
        while True:
            number = f"RMA{when:%Y%m%d}{self.rng.randrange(10 ** 6):06d}"
            if number not in self.rma_nos:
                self.rma_nos.add(number)
                return number

    # ------------------------------------------------------------ parcels
    def _route(self, carrier: str, city, stage: str, last: dt.datetime) -> List[Dict[str, str]]:
        """Tracking events from the 杭州 warehouse to the buyer, up to ``stage``.

        stage: picked (揽收 only), transit, delivering, delivered. The last
        event happens at ``last``; earlier ones are 2-14 hours apart.
        """
        _prov, city_name, districts, _streets, hub = city
        district = self.rng.choice(districts)
        station = f"{city_name[:-1] if city_name.endswith('市') else city_name}{district}营业部"
        courier = f"{self.rng.choice(COURIER_SURNAMES)}师傅"
        courier_phone = f"{self.rng.choice(PHONE_PREFIXES)}****{self.rng.randrange(10000):04d}"
        steps = [
            ("杭州市", f"{carrier}快递员已揽收，【杭州余杭仓前营业部】已收件"),
            ("杭州市", "快件已到达【杭州转运中心】"),
            ("杭州市", f"快件已从【杭州转运中心】发出，下一站【{hub}】"),
        ]
        if hub != "杭州转运中心":
            steps += [
                (city_name, f"快件已到达【{hub}】"),
                (city_name, f"快件已从【{hub}】发出，下一站【{station}】"),
            ]
        steps += [(city_name, f"快件已到达【{station}】")]
        delivering = (city_name, f"【{station}】快递员{courier}（电话{courier_phone}）正在为您派件，请保持电话畅通")
        receiver = self.rng.choice(["本人", "家门口快递柜", "菜鸟驿站", "前台", "家人"])
        delivered = (city_name, f"快件已签收，签收人：{receiver}。感谢使用{carrier}，期待再次为您服务")
        cutoff = {"picked": 1, "transit": self.rng.randint(2, len(steps)),
                  "delivering": len(steps), "delivered": len(steps)}[stage]
        chosen = steps[:cutoff]
        if stage in ("delivering", "delivered"):
            chosen.append(delivering)
        if stage == "delivered":
            chosen.append(delivered)
        times = [last]
        for _ in chosen[1:]:
            times.append(times[-1] - dt.timedelta(hours=self.rng.uniform(2, 14)))
        times.reverse()
        return [
            {"time": _iso(when.replace(microsecond=0)), "place": place, "text": f"【{place}】{text}"}
            for when, (place, text) in zip(times, chosen)
        ]

    # ------------------------------------------------------------ orders
    def _items(self) -> List[Dict[str, Any]]:
        items = []
        for product in self.rng.sample(self.products, self.rng.choice((1, 1, 1, 2, 2, 3))):
            variant = self.rng.choice(product["variants"])
            items.append({
                "product": product["name"], "size": variant["size"], "colour": variant["colour"],
                "quantity": self.rng.choice((1, 1, 1, 2)), "unit_price": product["price"],
            })
        return items

    def order(self, customer: Dict[str, Any], state: str) -> Dict[str, Any]:
        rng, now = self.rng, self.now
        hours = lambda a, b: dt.timedelta(hours=rng.uniform(a, b))  # noqa: E731
        items = self._items()
        subtotal = sum(Decimal(str(i["unit_price"])) * i["quantity"] for i in items)
        city = customer["city"] if rng.random() < 0.8 else rng.choice(CITIES)
        remote = city[0].startswith("新疆")
        if remote:
            fee = Decimal(str(self.policy["remote_shipping_fee"]))
        elif subtotal >= Decimal(str(self.policy["free_shipping_threshold"])):
            fee = Decimal(0)
        else:
            fee = Decimal(str(self.policy["base_shipping_fee"]))
        channel = _pick(rng, CHANNEL_WEIGHTS)
        record: Dict[str, Any] = {
            "customer": customer["id"], "status": state, "payment_channel": channel,
            "receiver_name": customer["name"], "receiver_phone": customer["phone"],
            "address": self._address(city), "shipping_fee": str(fee), "items": items,
        }
        total = subtotal + fee
        # Work backwards from how far along the order is.
        stage = {"已发货": "picked", "运输中": "transit", "派送中": "delivering",
                 "已签收": "delivered", "已完成": "delivered"}.get(state)
        returned = state in ("退款中", "已退款") and rng.random() < 0.6
        if state == "待付款":
            created = now - hours(0.2, 20)
            record["payment_channel"] = None
        elif state == "待发货":
            created = now - hours(1, 40)
            record["paid_at"] = _iso(created + dt.timedelta(minutes=rng.randint(1, 30)))
        elif state == "已取消" or (state in ("退款中", "已退款") and not returned):
            created = now - hours(6, 24 * 50)
            paid = state != "已取消" or rng.random() < 0.5
            cancelled = created + hours(0.5, 20)
            if paid:
                record["paid_at"] = _iso(created + dt.timedelta(minutes=rng.randint(1, 20)))
            else:
                record["payment_channel"] = None
            record["cancelled_at"] = _iso(cancelled)
            if paid:
                refund_state = {"已取消": "已退款", "退款中": "退款中", "已退款": "已退款"}[state]
                if state == "退款中":
                    cancelled = now - hours(2, 60)
                    created = cancelled - hours(1, 20)
                    record["paid_at"] = _iso(created + dt.timedelta(minutes=5))
                    record["cancelled_at"] = _iso(cancelled)
                    if rng.random() < 0.15:
                        refund_state = "退款失败"
                record["refunds"] = [{
                    "amount": str(total), "channel": channel, "state": refund_state, "reason": "取消订单",
                    "created_at": _iso(cancelled),
                    "completed_at": _iso(cancelled + hours(2, 60)) if refund_state == "已退款" else None,
                }]
        else:
            # Shipped at some point: the stage decides how far the parcel got
            # and when its latest tracking event happened.
            if stage == "picked":
                last = now - hours(0.5, 10)
            elif stage == "transit":
                # One in six transit parcels is stuck: last update 2-5 days ago.
                last = now - (hours(50, 120) if rng.random() < 0.17 else hours(1, 30))
            elif stage == "delivering":
                last = now - hours(0.5, 5)
            elif state == "已签收":
                last = now - hours(2, 24 * 10)
            else:  # 已完成 or returned
                last = now - hours(24 * 8, 24 * 55)
            carrier = self.carriers[0] if rng.random() < 0.5 else rng.choice(self.carriers)
            events = self._route(carrier, city, stage or "delivered", last)
            shipped = dt.datetime.fromisoformat(events[0]["time"])
            delivered_at = last if (stage or "delivered") == "delivered" else None
            created = shipped - hours(2, 46)
            record["paid_at"] = _iso(created + dt.timedelta(minutes=rng.randint(1, 30)))
            record["shipped_at"] = _iso(shipped)
            record["shipment"] = {
                "carrier": carrier, "tracking_no": self._tracking_no(carrier),
                "shipped_at": _iso(shipped), "events": events,
            }
            if delivered_at:
                record["delivered_at"] = _iso(delivered_at)
                if state == "已完成" or returned:
                    record["completed_at"] = _iso(min(delivered_at + dt.timedelta(days=7), now))
            self._after_sales(record, state, delivered_at, total, channel, returned)
        record["created_at"] = _iso(created)
        record["order_no"] = self._order_no(created)
        return record

    def _after_sales(self, record, state, delivered_at, total, channel, returned) -> None:
        """Returns, exchanges and refunds on delivered orders."""
        rng, now = self.rng, self.now
        if delivered_at is None:
            return
        item_index = rng.randrange(len(record["items"]))
        item = record["items"][item_index]
        amount = Decimal(str(item["unit_price"])) * item["quantity"]
        reason = rng.choice(RETURN_REASONS)
        quality = reason.startswith(("质量", "收到时", "发错"))
        opened = min(delivered_at + dt.timedelta(hours=rng.uniform(3, 120)), now)
        request = {
            "rma_no": self._rma_no(opened), "kind": "退货", "item": item_index, "reason": reason,
            "quality_issue": quality, "shipping_paid_by": "商家" if quality else rng.choice(["买家", "运费险"]),
            "created_at": _iso(opened),
        }
        if quality:
            request["damage_description"] = "外包装完好，拆开后发现商品有明显破损/瑕疵，已拍照"
        if returned:
            request["state"] = "已完成" if state == "已退款" else "已寄回"
            request["updated_at"] = _iso(min(opened + dt.timedelta(days=3), now))
            refund_state = "已退款" if state == "已退款" else "退款中"
            record["requests"] = [request]
            record["refunds"] = [{
                "amount": str(amount), "channel": channel, "state": refund_state, "reason": "退货退款",
                "request": request["rma_no"], "created_at": _iso(min(opened + dt.timedelta(days=3), now)),
                "completed_at": _iso(min(opened + dt.timedelta(days=4), now)) if refund_state == "已退款" else None,
            }]
            return
        roll = rng.random()
        if roll < 0.12:
            # An open or closed request on a delivered order, in every request state.
            product = next(p for p in self.products if p["name"] == item["product"])
            if product["variants"][0]["size"] and rng.random() < 0.5:
                request["kind"] = "换货"
                request["reason"] = "尺码不合适"
                request["quality_issue"] = False
                request.pop("damage_description", None)
                request["wanted_size"] = rng.choice(product["variants"])["size"]
            request["state"] = rng.choice(["待审核", "待寄回", "已寄回", "已完成", "已拒绝", "已撤销"])
            request["updated_at"] = _iso(min(opened + dt.timedelta(days=1), now))
            record["requests"] = [request]


def generate(seed: int = DEFAULT_SEED, now: Optional[dt.datetime] = None,
             customers: int = 300, orders: int = 2000) -> Dict[str, Any]:
    """The demo shop as a shop-data document (see docs/shop-data.md)."""
    reference = (now or shop_now()).replace(minute=0, second=0, microsecond=0)
    shop = _DemoShop(seed, reference)
    people = shop.customers(customers)
    states = list(STATE_WEIGHTS)
    # Every state at least a few times, the rest by weight.
    plan = [state for state in states for _ in range(5)]
    plan += shop.rng.choices(states, weights=list(STATE_WEIGHTS.values()), k=orders - len(plan))
    shop.rng.shuffle(plan)
    records = [shop.order(shop.rng.choice(people), state) for state in plan]
    for person in people:
        person.pop("city")
    return {"products": shop.products, "customers": people, "orders": records}
