"""python -m actions.demo [--force] [--seed N] [--sample]: load the demo shop.

Idempotent for `make run`: does nothing when the shop database already holds
orders, unless --force (which replaces them).
"""
from __future__ import annotations

import argparse
import asyncio
import sys

from actions.demo.generator import DEFAULT_SEED, generate
from actions.importer.loader import load_dataset, shop_has_data
from actions.shop.db import dispose_engines, shop_db_url


async def _print_sample(url: str) -> int:
    from actions.demo.sample import sample_orders

    try:
        rows = await sample_orders(url)
    finally:
        await dispose_engines()
    print("Demo orders to ask the bot about (order number / last 4 phone digits / state):")
    for order_no, tail, status in rows:
        print(f"  {order_no}  {tail}  {status}")
    return 0


async def _main(seed: int, force: bool, url: str) -> int:
    try:
        if not force and await shop_has_data(url):
            print("shop database already has data; demo not loaded (use --force to replace)")
            return 0
        counts = await load_dataset(generate(seed), url, replace=True)
    finally:
        await dispose_engines()
    print("demo shop loaded: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Load the demo shop into KEFU_SHOP_DB_URL")
    parser.add_argument("--force", action="store_true", help="replace existing shop data")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--sample", action="store_true", help="print one demo order per state")
    args = parser.parse_args(argv)
    if args.sample:
        return asyncio.run(_print_sample(args.db_url or shop_db_url()))
    return asyncio.run(_main(args.seed, args.force, args.db_url or shop_db_url()))


if __name__ == "__main__":
    sys.exit(main())
