"""Validation of a shop-data JSON document, naming the bad record and field.

validate_dataset() checks the whole document before anything is written and
reports every problem as ``orders[12] (order_no 3829...).status: ...``, so a
shop can fix its export in one go.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from actions.shop.models import (
    ORDER_STATES,
    PAYMENT_CHANNELS,
    REFUND_STATES,
    REQUEST_KINDS,
    REQUEST_STATES,
    VIP_TIERS,
)

ORDER_NO = re.compile(r"^\d{16,19}$")
PHONE = re.compile(r"^1\d{10}$")
MAX_REPORTED = 50


class ShopDataError(ValueError):
    """The document is invalid; ``problems`` lists each bad record and field."""

    def __init__(self, problems: List[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more" if more else "")
        super().__init__(f"{len(problems)} problem(s) in shop data:\n{text}")


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 local time (2024-11-08T14:30:00); a trailing offset is dropped."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time string")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=None)


class _Checker:
    def __init__(self) -> None:
        self.problems: List[str] = []

    def fail(self, where: str, field: str, message: str) -> None:
        self.problems.append(f"{where}.{field}: {message}")

    def objects(self, items: Optional[Iterable[Any]], prefix: str) -> Iterator[Tuple[str, Dict]]:
        """Yield (where, record) for each object in items; report each non-object."""
        for i, rec in enumerate(items or []):
            where = f"{prefix}[{i}]"
            if not isinstance(rec, dict):
                self.fail(where, "", "expected an object")
                continue
            yield where, rec

    def unique(self, value: Any, seen: Set, where: str, field: str, message: str) -> None:
        """Report value when seen already holds it, then remember it."""
        if value in seen:
            self.fail(where, field, message)
        seen.add(value)

    def key(self, rec: Dict, where: str, field: str, seen: Set, label: str, duplicate: str,
            pattern: Optional[re.Pattern] = None) -> Tuple[Optional[str], str]:
        """Check a record's identifying field and name the record by it from then on."""
        value = self.text(rec, where, field, pattern=pattern)
        if not value:
            return None, where
        where = f"{where} ({label}{value})"
        self.unique(value, seen, where, field, duplicate)
        return value, where

    def text(self, rec: Dict, where: str, field: str, required: bool = True,
             pattern: Optional[re.Pattern] = None, choices=None) -> Optional[str]:
        value = rec.get(field)
        if value is None or value == "":
            if required:
                self.fail(where, field, "is required")
            return None
        if not isinstance(value, str):
            self.fail(where, field, f"expected text, got {type(value).__name__}")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(where, field, f"{value!r} has the wrong format")
            return None
        if choices is not None and value not in choices:
            self.fail(where, field, f"{value!r} is not one of {', '.join(choices)}")
            return None
        return value

    def money(self, rec: Dict, where: str, field: str, required: bool = True) -> Optional[Decimal]:
        value = rec.get(field)
        if value is None:
            if required:
                self.fail(where, field, "is required")
            return None
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(where, field, f"{value!r} is not a number")
            return None
        if amount < 0:
            self.fail(where, field, "must not be negative")
            return None
        return amount

    def time(self, rec: Dict, where: str, field: str, required: bool = False) -> Optional[dt.datetime]:
        value = rec.get(field)
        if value is None:
            if required:
                self.fail(where, field, "is required")
            return None
        try:
            return parse_time(value)
        except ValueError:
            self.fail(where, field, f"{value!r} is not an ISO 8601 time")
            return None

    def integer(self, rec: Dict, where: str, field: str, default: int, minimum: int = 0) -> int:
        value = rec.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(where, field, f"expected a whole number >= {minimum}")
            return default
        return value

    def boolean(self, rec: Dict, where: str, field: str, default: bool) -> bool:
        value = rec.get(field, default)
        if not isinstance(value, bool):
            self.fail(where, field, "expected true or false")
            return default
        return value


def validate_dataset(data: Any) -> None:
    """Raise ShopDataError listing every problem; return None when the data is sound."""
    check = _Checker()
    if not isinstance(data, dict):
        raise ShopDataError(["document: expected a JSON object with products, customers, orders"])
    for key in ("products", "customers", "orders"):
        if not isinstance(data.get(key), list):
            check.fail("document", key, "expected a list")
    if check.problems:
        raise ShopDataError(check.problems)

    products: Set[str] = set()
    for where, rec in check.objects(data["products"], "products"):
        _, where = check.key(rec, where, "name", products, "", "duplicates an earlier product")
        check.text(rec, where, "category")
        check.money(rec, where, "price")
        returnable = check.boolean(rec, where, "returnable", True)
        check.boolean(rec, where, "returnable_if_unopened", False)
        if not returnable:
            check.text(rec, where, "nonreturnable_reason")
        guide = rec.get("usage_guide", {})
        if not isinstance(guide, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in guide.items()
        ):
            check.fail(where, "usage_guide", "expected an object of section title -> text")
        aliases = rec.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            check.fail(where, "aliases", "expected a list of names")
        seen: Set[Tuple[str, str]] = set()
        for vwhere, var in check.objects(rec.get("variants", []), f"{where}.variants"):
            size_colour = (var.get("size") or "", var.get("colour") or "")
            check.unique(size_colour, seen, vwhere, "size/colour", "duplicates an earlier variant")
            check.integer(var, vwhere, "stock", 0)

    customers: Set[str] = set()
    phones: Set[str] = set()
    for where, rec in check.objects(data["customers"], "customers"):
        _, where = check.key(rec, where, "id", customers, "id ", "duplicates an earlier customer")
        check.text(rec, where, "name")
        phone = check.text(rec, where, "phone", pattern=PHONE)
        if phone:
            check.unique(phone, phones, where, "phone", "duplicates another customer's phone")
        if rec.get("vip_tier") is not None:
            check.text(rec, where, "vip_tier", choices=VIP_TIERS)
        check.time(rec, where, "created_at")

    order_nos: Set[str] = set()
    tracking_nos: Set[str] = set()
    rma_nos: Set[str] = set()
    for where, rec in check.objects(data["orders"], "orders"):
        _, where = check.key(rec, where, "order_no", order_nos, "order_no ",
                             "duplicates an earlier order", pattern=ORDER_NO)
        customer = check.text(rec, where, "customer")
        if customer and customer not in customers:
            check.fail(where, "customer", f"no customer with id {customer!r}")
        status = check.text(rec, where, "status", choices=ORDER_STATES)
        check.text(rec, where, "payment_channel", required=False, choices=PAYMENT_CHANNELS)
        check.text(rec, where, "receiver_name")
        check.text(rec, where, "receiver_phone", pattern=PHONE)
        check.text(rec, where, "address")
        check.money(rec, where, "shipping_fee", required=False)
        created = check.time(rec, where, "created_at", required=True)
        times = {f: check.time(rec, where, f) for f in
                 ("paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at")}
        for field, value in times.items():
            if created and value and value < created:
                check.fail(where, field, "is before created_at")
        if status in ("已发货", "运输中", "派送中", "已签收", "已完成") and not rec.get("shipment"):
            check.fail(where, "shipment", f"is required for an order in state {status}")
        if status in ("已签收", "已完成") and not times.get("delivered_at"):
            check.fail(where, "delivered_at", f"is required for an order in state {status}")
        items = rec.get("items")
        if not isinstance(items, list) or not items:
            check.fail(where, "items", "expected at least one item")
            items = []
        for iwhere, item in check.objects(items, f"{where}.items"):
            product = check.text(item, iwhere, "product")
            if product and product not in products:
                check.fail(iwhere, "product", f"no product named {product!r}")
            check.integer(item, iwhere, "quantity", 1, minimum=1)
            check.money(item, iwhere, "unit_price")
        shipment = rec.get("shipment")
        if shipment is not None:
            swhere = f"{where}.shipment"
            if not isinstance(shipment, dict):
                check.fail(swhere, "", "expected an object")
            else:
                check.text(shipment, swhere, "carrier")
                tracking = check.text(shipment, swhere, "tracking_no")
                if tracking:
                    check.unique(tracking, tracking_nos, swhere, "tracking_no",
                                 "duplicates another parcel")
                check.time(shipment, swhere, "shipped_at", required=True)
                for ewhere, event in check.objects(shipment.get("events", []), f"{swhere}.events"):
                    check.time(event, ewhere, "time", required=True)
                    check.text(event, ewhere, "place")
                    check.text(event, ewhere, "text")
        rmas_here: Set[str] = set()
        for rwhere, req in check.objects(rec.get("requests", []), f"{where}.requests"):
            rma = check.text(req, rwhere, "rma_no")
            if rma:
                check.unique(rma, rma_nos, rwhere, "rma_no", "duplicates another request")
                rmas_here.add(rma)
            check.text(req, rwhere, "kind", choices=REQUEST_KINDS)
            check.text(req, rwhere, "reason")
            check.text(req, rwhere, "state", choices=REQUEST_STATES)
            check.text(req, rwhere, "shipping_paid_by", choices=("买家", "商家", "运费险"))
            item_index = req.get("item", 0)
            if not isinstance(item_index, int) or not 0 <= item_index < len(items):
                check.fail(rwhere, "item", f"expected an index into items (0..{len(items) - 1})")
            check.time(req, rwhere, "created_at", required=True)
        for fwhere, refund in check.objects(rec.get("refunds", []), f"{where}.refunds"):
            check.money(refund, fwhere, "amount")
            check.text(refund, fwhere, "channel", choices=PAYMENT_CHANNELS)
            check.text(refund, fwhere, "state", choices=REFUND_STATES)
            check.text(refund, fwhere, "reason")
            check.time(refund, fwhere, "created_at", required=True)
            check.time(refund, fwhere, "completed_at")
            request = refund.get("request")
            if request is not None and request not in rmas_here:
                check.fail(fwhere, "request", f"no request {request!r} in this order")
    if check.problems:
        raise ShopDataError(check.problems)
