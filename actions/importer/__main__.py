"""python -m actions.importer FILE [--replace]: load a shop's JSON export.

Validates the whole file first and prints every bad record and field; writes
all of it in one transaction or nothing. Target: KEFU_SHOP_DB_URL (default
sqlite var/shop.db).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys

from actions.importer.loader import ShopNotEmpty, load_dataset
from actions.importer.validation import ShopDataError
from actions.shop.db import dispose_engines, shop_db_url


async def _main(path: str, replace: bool, url: str) -> int:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        counts = await load_dataset(data, url, replace=replace)
    except ShopDataError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ShopNotEmpty as exc:
        print(f"{exc}; pass --replace to overwrite it", file=sys.stderr)
        return 1
    finally:
        await dispose_engines()
    print("imported " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="shop data JSON (see docs/shop-data.md)")
    parser.add_argument("--replace", action="store_true", help="overwrite existing shop data")
    parser.add_argument("--db-url", default=None, help="database URL (default KEFU_SHOP_DB_URL)")
    args = parser.parse_args(argv)
    return asyncio.run(_main(args.file, args.replace, args.db_url or shop_db_url()))


if __name__ == "__main__":
    sys.exit(main())
