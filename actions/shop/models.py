"""SQLAlchemy models of the shop: catalogue, customers, orders, parcels, after-sales.

Order states and request states are stored as the Chinese words shoppers and
agents see, so the database reads like the shop's back office.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import List, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

# Order states, in the order an order normally moves through them.
ORDER_STATES = (
    "待付款", "待发货", "已发货", "运输中", "派送中", "已签收", "已完成",
    "已取消", "退款中", "已退款",
)
NOT_SHIPPED_STATES = ("待付款", "待发货")
IN_TRANSIT_STATES = ("已发货", "运输中", "派送中")
DELIVERED_STATES = ("已签收", "已完成")

PAYMENT_CHANNELS = ("支付宝", "微信支付", "银行卡", "信用卡")
REQUEST_KINDS = ("退货", "换货")
REQUEST_STATES = ("待审核", "待寄回", "已寄回", "已完成", "已拒绝", "已撤销")
REFUND_STATES = ("退款中", "已退款", "退款失败")
VIP_TIERS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")


class Product(Base):
    __tablename__ = "products"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    aliases = Column(JSON, nullable=False, default=list)
    category = Column(String(32), nullable=False, index=True)
    price = Column(Numeric(10, 2), nullable=False)
    returnable = Column(Boolean, nullable=False, default=True)
    returnable_if_unopened = Column(Boolean, nullable=False, default=False)
    nonreturnable_reason = Column(String(64))
    usage_guide = Column(JSON, nullable=False, default=dict)  # {section: text}

    variants: List["ProductVariant"] = relationship(
        "ProductVariant", back_populates="product", order_by="ProductVariant.id"
    )


class ProductVariant(Base):
    """One sellable size/colour of a product, with its stock."""

    __tablename__ = "product_variants"
    __table_args__ = (UniqueConstraint("product_id", "size", "colour"),)

    id = Column(Integer, primary_key=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False, index=True)
    size = Column(String(16), nullable=False, default="")
    colour = Column(String(16), nullable=False, default="")
    stock = Column(Integer, nullable=False, default=0)

    product: Product = relationship("Product", back_populates="variants")

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.colour, self.size) if part) or "默认款"


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(32), nullable=False)
    phone = Column(String(11), nullable=False, unique=True)
    vip_tier = Column(String(16), nullable=False, default="普通会员")
    created_at = Column(DateTime, nullable=False)

    orders: List["Order"] = relationship("Order", back_populates="customer")


class Order(Base):
    __tablename__ = "orders"

    id = Column(Integer, primary_key=True)
    order_no = Column(String(19), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(8), nullable=False, index=True)
    total = Column(Numeric(10, 2), nullable=False)
    shipping_fee = Column(Numeric(10, 2), nullable=False, default=0)
    payment_channel = Column(String(8))
    receiver_name = Column(String(32), nullable=False)
    receiver_phone = Column(String(11), nullable=False)
    address = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)
    paid_at = Column(DateTime)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    completed_at = Column(DateTime)
    cancelled_at = Column(DateTime)

    customer: Customer = relationship("Customer", back_populates="orders")
    items: List["OrderItem"] = relationship(
        "OrderItem", back_populates="order", order_by="OrderItem.id"
    )
    shipment: Optional["Shipment"] = relationship(
        "Shipment", back_populates="order", uselist=False
    )
    urges: List["OrderUrge"] = relationship("OrderUrge", back_populates="order")
    address_changes: List["AddressChange"] = relationship(
        "AddressChange", back_populates="order"
    )
    service_requests: List["ServiceRequest"] = relationship(
        "ServiceRequest", back_populates="order", order_by="ServiceRequest.id"
    )
    refunds: List["Refund"] = relationship(
        "Refund", back_populates="order", order_by="Refund.id"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    product_id = Column(Integer, ForeignKey("products.id"), nullable=False)
    size = Column(String(16), nullable=False, default="")
    colour = Column(String(16), nullable=False, default="")
    quantity = Column(Integer, nullable=False, default=1)
    unit_price = Column(Numeric(10, 2), nullable=False)

    order: Order = relationship("Order", back_populates="items")
    product: Product = relationship("Product")

    @property
    def label(self) -> str:
        spec = " ".join(part for part in (self.colour, self.size) if part)
        return f"{self.product.name}（{spec}）" if spec else self.product.name


class Shipment(Base):
    __tablename__ = "shipments"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, unique=True)
    carrier = Column(String(16), nullable=False)
    tracking_no = Column(String(32), nullable=False, unique=True)
    shipped_at = Column(DateTime, nullable=False)

    order: Order = relationship("Order", back_populates="shipment")
    events: List["TrackingEvent"] = relationship(
        "TrackingEvent", back_populates="shipment", order_by="TrackingEvent.occurred_at"
    )


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id = Column(Integer, primary_key=True)
    shipment_id = Column(Integer, ForeignKey("shipments.id"), nullable=False, index=True)
    occurred_at = Column(DateTime, nullable=False)
    place = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)

    shipment: Shipment = relationship("Shipment", back_populates="events")


class OrderUrge(Base):
    """A shopper asked to hurry an order; agents see these in the console."""

    __tablename__ = "order_urges"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    status_at_urge = Column(String(8), nullable=False)
    note = Column(Text, nullable=False, default="")

    order: Order = relationship("Order", back_populates="urges")


class AddressChange(Base):
    __tablename__ = "address_changes"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    old_address = Column(Text, nullable=False)
    new_address = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)

    order: Order = relationship("Order", back_populates="address_changes")


class ServiceRequest(Base):
    """A return or exchange request, known to the shopper by its RMA number."""

    __tablename__ = "service_requests"

    id = Column(Integer, primary_key=True)
    rma_no = Column(String(24), nullable=False, unique=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    order_item_id = Column(Integer, ForeignKey("order_items.id"), nullable=False)
    kind = Column(String(4), nullable=False)  # 退货 / 换货
    reason = Column(Text, nullable=False)
    quality_issue = Column(Boolean, nullable=False, default=False)
    damage_description = Column(Text)
    wanted_size = Column(String(16))
    wanted_colour = Column(String(16))
    state = Column(String(8), nullable=False)
    shipping_paid_by = Column(String(8), nullable=False)  # 买家 / 商家 / 运费险
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    order: Order = relationship("Order", back_populates="service_requests")
    item: OrderItem = relationship("OrderItem")


class Refund(Base):
    __tablename__ = "refunds"

    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id"), nullable=False, index=True)
    service_request_id = Column(Integer, ForeignKey("service_requests.id"))
    amount = Column(Numeric(10, 2), nullable=False)
    channel = Column(String(8), nullable=False)
    state = Column(String(8), nullable=False)
    reason = Column(String(32), nullable=False)  # 取消订单 / 退货退款 / 仅退款
    created_at = Column(DateTime, nullable=False)
    completed_at = Column(DateTime)

    order: Order = relationship("Order", back_populates="refunds")


def money(value: Decimal | float | int) -> str:
    """Yuan with two decimals, as shops print it."""
    return f"{Decimal(value):.2f}"


def shop_now() -> dt.datetime:
    """Naive local-time clock for the shop (all stored times are Beijing time)."""
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
