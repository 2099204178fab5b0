"""Latency of one custom action over HTTP: check_order_status on the demo shop.

Starts nothing itself: point it at a running action server (rasa run actions,
default http://127.0.0.1:5055) whose KEFU_SHOP_DB_URL holds the demo shop, or
pass --inline to call the action in-process against KEFU_SHOP_DB_URL.
Prints p50/p95/max in milliseconds.

    .venv/bin/python bench/action_latency.py --requests 300 --concurrency 10
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import List

import aiohttp
from sqlalchemy import create_engine, text

from actions.shop.db import shop_db_url


def sample_orders(url: str, count: int) -> List[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select o.order_no, o.customer_id from orders o")).fetchall()
    random.Random(1).shuffle(rows)
    return [tuple(r) for r in rows[:count]]


def payload(order_no: str, customer_id: int) -> dict:
    return {
        "next_action": "action_check_order_status",
        "sender_id": f"bench-{order_no}",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": f"bench-{order_no}",
            "slots": {"verified_order_id": order_no, "verified_customer_id": str(customer_id),
                      "order_id": order_no},
            "latest_message": {"text": "我的订单到哪了", "intent": {"name": "check_order_status"}, "entities": []},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


async def over_http(url: str, orders, concurrency: int) -> List[float]:
    timings: List[float] = []
    queue = list(orders)

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            order_no, customer = queue.pop()
            start = time.perf_counter()
            async with session.post(url, json=payload(order_no, customer)) as response:
                body = await response.json()
                assert response.status == 200 and body["responses"], body
            timings.append((time.perf_counter() - start) * 1000)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return timings


async def inline(orders) -> List[float]:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.orders import ActionCheckOrderStatus

    timings = []
    for order_no, customer in orders:
        tracker = Tracker.from_dict(payload(order_no, customer)["tracker"])
        start = time.perf_counter()
        await ActionCheckOrderStatus().run(CollectingDispatcher(), tracker, {})
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions-url", default="http://127.0.0.1:5055/webhook")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--inline", action="store_true")
    args = parser.parse_args()
    orders = sample_orders(shop_db_url(), args.requests)
    start = time.perf_counter()
    if args.inline:
        timings = asyncio.run(inline(orders))
    else:
        timings = asyncio.run(over_http(args.actions_url, orders, args.concurrency))
    elapsed = time.perf_counter() - start
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    mode = "inline" if args.inline else f"http, concurrency {args.concurrency}"
    print(f"action_check_order_status ({mode}, {len(timings)} requests over {len(orders)} demo orders): "
          f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms, "
          f"{len(timings) / elapsed:.0f} req/s")


if __name__ == "__main__":
    main()
