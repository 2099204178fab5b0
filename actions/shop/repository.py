"""Async queries and updates the actions need, one function per shop question.

Every function opens its own short AsyncSession, so the action server's event
loop never waits on the database, and turns driver failures into
ShopUnavailable so actions can answer politely instead of crashing.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from contextlib import asynccontextmanager
from typing import AsyncIterator, List, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from actions.shop.db import session_factory
from actions.shop.models import (
    NOT_SHIPPED_STATES,
    AddressChange,
    Customer,
    Order,
    OrderItem,
    OrderUrge,
    Product,
    ProductVariant,
    Refund,
    ServiceRequest,
    Shipment,
    shop_now,
)

logger = logging.getLogger(__name__)


class ShopUnavailable(RuntimeError):
    """The shop database cannot be reached or failed mid-query."""


class OrderStateChanged(RuntimeError):
    """The order moved on (e.g. shipped) between the check and the update."""


@dataclass(frozen=True)
class Verification:
    """Outcome of an order-number + phone-tail check."""

    outcome: str  # "ok" | "unknown_order" | "phone_mismatch"
    order_no: Optional[str] = None
    customer_id: Optional[int] = None
    vip_tier: Optional[str] = None  # the buyer's membership tier: the handoff ticket's priority uses it

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def mask_phone(phone: str) -> str:
    """138****6621: enough for logs, useless to a thief."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def _order_loads():
    return (
        selectinload(Order.items).selectinload(OrderItem.product),
        selectinload(Order.shipment).selectinload(Shipment.events),
        selectinload(Order.refunds),
        selectinload(Order.service_requests),
        selectinload(Order.customer),
    )


async def _unshipped_order(session: AsyncSession, order_no: str) -> Order:
    """Lock the order row for a change only an unshipped order allows.

    Raises LookupError when there is no such order and OrderStateChanged when it
    shipped (or was cancelled) since the action checked it.
    """
    order = await session.scalar(
        select(Order).where(Order.order_no == order_no).with_for_update()
    )
    if order is None:
        raise LookupError(order_no)
    if order.status not in NOT_SHIPPED_STATES:
        raise OrderStateChanged(order.status)
    return order


class ShopRepository:
    """The shop database as the actions see it."""

    def __init__(self, url: Optional[str] = None) -> None:
        self._sessions = session_factory(url)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session:
                yield session
        except (SQLAlchemyError, OSError) as exc:
            logger.error("shop database error: %s", exc.__class__.__name__, exc_info=True)
            raise ShopUnavailable(str(exc)) from exc

    # ------------------------------------------------------------ reading
    async def count_orders(self) -> int:
        async with self._session() as session:
            return int(await session.scalar(select(func.count(Order.id))) or 0)

    async def verify(self, order_no: str, phone_tail: str) -> Verification:
        """Does the order exist, and does its buyer's phone end in phone_tail?"""
        async with self._session() as session:
            row = (
                await session.execute(
                    select(Order.order_no, Order.customer_id, Customer.phone, Customer.vip_tier)
                    .join(Customer, Customer.id == Order.customer_id)
                    .where(Order.order_no == order_no)
                )
            ).first()
        if row is None:
            return Verification("unknown_order")
        if not row.phone.endswith(phone_tail):
            return Verification("phone_mismatch")
        return Verification("ok", row.order_no, row.customer_id, row.vip_tier)

    async def get_order(self, order_no: str) -> Optional[Order]:
        """The order with items, parcel, refunds and requests loaded."""
        async with self._session() as session:
            return await session.scalar(
                select(Order).where(Order.order_no == order_no).options(*_order_loads())
            )

    async def latest_order(self, customer_id: int) -> Optional[Order]:
        """The customer's most recent order ("最近那单")."""
        async with self._session() as session:
            return await session.scalar(
                select(Order)
                .where(Order.customer_id == customer_id)
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(1)
                .options(*_order_loads())
            )

    async def find_product(self, name: str) -> Optional[Product]:
        """A product by its name or one of its aliases (exact, then contained)."""
        text = (name or "").strip()
        if not text:
            return None
        async with self._session() as session:
            products = (
                await session.scalars(select(Product).options(selectinload(Product.variants)))
            ).all()
        for product in products:
            if text == product.name or text in (product.aliases or []):
                return product
        candidates = [
            (len(word), product)
            for product in products
            for word in [product.name, *(product.aliases or [])]
            if word and word in text
        ]
        return max(candidates, key=lambda pair: pair[0])[1] if candidates else None

    async def variants(self, product_id: int) -> List[ProductVariant]:
        async with self._session() as session:
            return list(
                (
                    await session.scalars(
                        select(ProductVariant)
                        .where(ProductVariant.product_id == product_id)
                        .order_by(ProductVariant.id)
                    )
                ).all()
            )

    # ------------------------------------------------------------ writing
    async def record_urge(self, order_no: str, note: str) -> OrderUrge:
        """Store the shopper's urge against the order for the agents."""
        async with self._session() as session:
            async with session.begin():
                order = await session.scalar(select(Order).where(Order.order_no == order_no))
                if order is None:
                    raise LookupError(order_no)
                urge = OrderUrge(
                    order_id=order.id, created_at=shop_now(), status_at_urge=order.status, note=note
                )
                session.add(urge)
            return urge

    async def urge_count(self, order_no: str) -> int:
        async with self._session() as session:
            return int(
                await session.scalar(
                    select(func.count(OrderUrge.id))
                    .join(Order, Order.id == OrderUrge.order_id)
                    .where(Order.order_no == order_no)
                )
                or 0
            )

    async def change_address(self, order_no: str, new_address: str) -> AddressChange:
        """Replace the delivery address; only while the order has not shipped."""
        async with self._session() as session:
            async with session.begin():
                order = await _unshipped_order(session, order_no)
                change = AddressChange(
                    order_id=order.id,
                    old_address=order.address,
                    new_address=new_address,
                    created_at=shop_now(),
                )
                order.address = new_address
                session.add(change)
            return change

    async def cancel_order(self, order_no: str) -> Optional[Refund]:
        """Cancel an unshipped order; a paid one gets a refund to its channel."""
        async with self._session() as session:
            async with session.begin():
                order = await _unshipped_order(session, order_no)
                now = shop_now()
                refund = None
                if order.status == "待发货" and order.paid_at is not None:
                    refund = Refund(
                        order_id=order.id,
                        amount=order.total,
                        channel=order.payment_channel or "支付宝",
                        state="退款中",
                        reason="取消订单",
                        created_at=now,
                    )
                    session.add(refund)
                    order.status = "退款中"
                else:
                    order.status = "已取消"
                order.cancelled_at = now
            return refund

    async def open_request(self, order_no: str) -> Optional[ServiceRequest]:
        """An unfinished return/exchange request of the order, if any."""
        async with self._session() as session:
            return await session.scalar(
                select(ServiceRequest)
                .join(Order, Order.id == ServiceRequest.order_id)
                .where(
                    Order.order_no == order_no,
                    ServiceRequest.state.in_(("待审核", "待寄回", "已寄回")),
                )
                .order_by(ServiceRequest.id.desc())
                .limit(1)
            )

    async def create_request(
        self,
        *,
        order_no: str,
        order_item_id: int,
        kind: str,
        reason: str,
        quality_issue: bool,
        shipping_paid_by: str,
        damage_description: Optional[str] = None,
        wanted_size: Optional[str] = None,
        wanted_colour: Optional[str] = None,
    ) -> ServiceRequest:
        """File a return/exchange request; it waits for the shopper's parcel."""
        async with self._session() as session:
            async with session.begin():
                order = await session.scalar(select(Order).where(Order.order_no == order_no))
                if order is None:
                    raise LookupError(order_no)
                now = shop_now()
                request = ServiceRequest(
                    rma_no=new_rma_no(now),
                    order_id=order.id,
                    order_item_id=order_item_id,
                    kind=kind,
                    reason=reason,
                    quality_issue=quality_issue,
                    damage_description=damage_description,
                    wanted_size=wanted_size,
                    wanted_colour=wanted_colour,
                    state="待寄回",
                    shipping_paid_by=shipping_paid_by,
                    created_at=now,
                    updated_at=now,
                )
                session.add(request)
            return request

    async def variant_stock(self, product_id: int, size: str, colour: str) -> int:
        """Stock of one size/colour of a product (0 when it does not exist)."""
        async with self._session() as session:
            stock = await session.scalar(
                select(ProductVariant.stock).where(
                    ProductVariant.product_id == product_id,
                    ProductVariant.size == (size or ""),
                    ProductVariant.colour == (colour or ""),
                )
            )
        return int(stock or 0)


def new_rma_no(now: dt.datetime) -> str:
    """RMA + date + 6 random digits, e.g. RMA20241108123456."""
    return f"RMA{now:%Y%m%d}{secrets.randbelow(10**6):06d}"

