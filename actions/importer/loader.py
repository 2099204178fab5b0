"""Writes a validated shop-data document into the database in one transaction."""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, func, select, text

from actions.importer.validation import parse_time, validate_dataset
from actions.shop.db import create_schema, get_engine
from actions.shop.models import (
    AddressChange,
    Base,
    Customer,
    Order,
    OrderItem,
    OrderUrge,
    Product,
    ProductVariant,
    Refund,
    ServiceRequest,
    Shipment,
    TrackingEvent,
)

logger = logging.getLogger(__name__)


class ShopNotEmpty(RuntimeError):
    """The database already holds orders and replace was not asked for."""


def _t(value: Optional[str]) -> Optional[dt.datetime]:
    return parse_time(value) if value is not None else None


def _rows(data: Dict[str, Any]) -> Dict[Any, List[Dict[str, Any]]]:
    """Turn the document into table rows with explicit ids (fast bulk insert)."""
    rows: Dict[Any, List[Dict[str, Any]]] = {t: [] for t in (
        Product, ProductVariant, Customer, Order, OrderItem, Shipment,
        TrackingEvent, ServiceRequest, Refund)}
    product_ids: Dict[str, int] = {}
    for pid, rec in enumerate(data["products"], start=1):
        product_ids[rec["name"]] = pid
        rows[Product].append(dict(
            id=pid, name=rec["name"], aliases=rec.get("aliases", []),
            category=rec["category"], price=Decimal(str(rec["price"])),
            returnable=rec.get("returnable", True),
            returnable_if_unopened=rec.get("returnable_if_unopened", False),
            nonreturnable_reason=rec.get("nonreturnable_reason"),
            usage_guide=rec.get("usage_guide", {}),
        ))
        for var in rec.get("variants", []) or []:
            rows[ProductVariant].append(dict(
                id=len(rows[ProductVariant]) + 1, product_id=pid,
                size=var.get("size") or "", colour=var.get("colour") or "",
                stock=var.get("stock", 0),
            ))
    customer_ids: Dict[str, int] = {}
    for cid, rec in enumerate(data["customers"], start=1):
        customer_ids[rec["id"]] = cid
        rows[Customer].append(dict(
            id=cid, name=rec["name"], phone=rec["phone"],
            vip_tier=rec.get("vip_tier") or "普通会员",
            created_at=_t(rec.get("created_at")) or dt.datetime(2020, 1, 1),
        ))
    for oid, rec in enumerate(data["orders"], start=1):
        item_ids: List[int] = []
        subtotal = Decimal(0)
        for item in rec["items"]:
            item_id = len(rows[OrderItem]) + 1
            item_ids.append(item_id)
            quantity = item.get("quantity", 1)
            price = Decimal(str(item["unit_price"]))
            subtotal += price * quantity
            rows[OrderItem].append(dict(
                id=item_id, order_id=oid, product_id=product_ids[item["product"]],
                size=item.get("size") or "", colour=item.get("colour") or "",
                quantity=quantity, unit_price=price,
            ))
        fee = Decimal(str(rec.get("shipping_fee", 0)))
        rows[Order].append(dict(
            id=oid, order_no=rec["order_no"], customer_id=customer_ids[rec["customer"]],
            status=rec["status"], total=subtotal + fee, shipping_fee=fee,
            payment_channel=rec.get("payment_channel"),
            receiver_name=rec["receiver_name"], receiver_phone=rec["receiver_phone"],
            address=rec["address"], created_at=_t(rec["created_at"]),
            paid_at=_t(rec.get("paid_at")), shipped_at=_t(rec.get("shipped_at")),
            delivered_at=_t(rec.get("delivered_at")), completed_at=_t(rec.get("completed_at")),
            cancelled_at=_t(rec.get("cancelled_at")),
        ))
        shipment = rec.get("shipment")
        if shipment:
            sid = len(rows[Shipment]) + 1
            rows[Shipment].append(dict(
                id=sid, order_id=oid, carrier=shipment["carrier"],
                tracking_no=shipment["tracking_no"], shipped_at=_t(shipment["shipped_at"]),
            ))
            for event in shipment.get("events", []) or []:
                rows[TrackingEvent].append(dict(
                    id=len(rows[TrackingEvent]) + 1, shipment_id=sid,
                    occurred_at=_t(event["time"]), place=event["place"], text=event["text"],
                ))
        request_ids: Dict[str, int] = {}
        for req in rec.get("requests", []) or []:
            rid = len(rows[ServiceRequest]) + 1
            request_ids[req["rma_no"]] = rid
            created = _t(req["created_at"])
            rows[ServiceRequest].append(dict(
                id=rid, rma_no=req["rma_no"], order_id=oid,
                order_item_id=item_ids[req.get("item", 0)], kind=req["kind"],
                reason=req["reason"], quality_issue=req.get("quality_issue", False),
                damage_description=req.get("damage_description"),
                wanted_size=req.get("wanted_size"), wanted_colour=req.get("wanted_colour"),
                state=req["state"], shipping_paid_by=req["shipping_paid_by"],
                created_at=created, updated_at=_t(req.get("updated_at")) or created,
            ))
        for refund in rec.get("refunds", []) or []:
            rows[Refund].append(dict(
                id=len(rows[Refund]) + 1, order_id=oid,
                service_request_id=request_ids.get(refund.get("request")),
                amount=Decimal(str(refund["amount"])), channel=refund["channel"],
                state=refund["state"], reason=refund["reason"],
                created_at=_t(refund["created_at"]), completed_at=_t(refund.get("completed_at")),
            ))
    return rows


async def shop_has_data(url: Optional[str] = None) -> bool:
    await create_schema(url)
    async with get_engine(url).connect() as conn:
        return bool(await conn.scalar(select(func.count(Order.id))))


async def load_dataset(data: Dict[str, Any], url: Optional[str] = None, replace: bool = False) -> Dict[str, int]:
    """Validate, then write everything or nothing. Returns row counts per table."""
    validate_dataset(data)
    rows = _rows(data)
    await create_schema(url)
    engine = get_engine(url)
    async with engine.begin() as conn:
        existing = await conn.scalar(select(func.count(Order.id)))
        if existing and not replace:
            raise ShopNotEmpty(f"the shop database already holds {existing} orders")
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(delete(table))
        for model in (Product, ProductVariant, Customer, Order, OrderItem, Shipment,
                      TrackingEvent, ServiceRequest, Refund):
            chunk = rows[model]
            for start in range(0, len(chunk), 2000):
                await conn.execute(model.__table__.insert(), chunk[start:start + 2000])
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                await conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                ))
    counts = {model.__tablename__: len(chunk) for model, chunk in rows.items()}
    logger.info("loaded shop data: %s", counts)
    return counts


# Tables written at runtime by the actions (kept by reference for docs/tests).
RUNTIME_TABLES = (OrderUrge.__tablename__, AddressChange.__tablename__)
