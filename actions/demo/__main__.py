"""python -m actions.demo [--force] [--seed N]: load the demo shop.

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
    args = parser.parse_args(argv)
    return asyncio.run(_main(args.seed, args.force, args.db_url or shop_db_url()))


if __name__ == "__main__":
    sys.exit(main())
