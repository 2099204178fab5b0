"""A few demo orders, one per state, for people trying the bot by hand."""
from __future__ import annotations

from sqlalchemy import func, select

from actions.shop.db import session_factory
from actions.shop.models import Customer, Order


async def sample_orders(url: str, per_state: int = 1) -> list[tuple[str, str, str]]:
    """(order number, last four phone digits, state) for the first orders of each state."""
    async with session_factory(url)() as session:
        first_ids = (select(func.min(Order.id)).group_by(Order.status)).scalar_subquery()
        rows = await session.execute(
            select(Order.order_no, Customer.phone, Order.status)
            .join(Customer, Order.customer_id == Customer.id)
            .where(Order.id.in_(first_ids))
            .order_by(Order.status)
        )
        return [(order_no, phone[-4:], status) for order_no, phone, status in rows]
