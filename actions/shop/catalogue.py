"""The demo catalogue files (data/catalogue/*.yml): products and couriers."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List

import yaml

from actions.policy import REPO_ROOT

CATALOGUE_DIR = REPO_ROOT / "data" / "catalogue"


def _load(path: Path, key: str) -> List[Dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    entries = data.get(key)
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list under {key!r}")
    return entries


@functools.lru_cache(maxsize=1)
def catalogue_products() -> List[Dict[str, Any]]:
    """Products of data/catalogue/products.yml, as written there."""
    return _load(CATALOGUE_DIR / "products.yml", "products")


@functools.lru_cache(maxsize=1)
def carriers() -> List[Dict[str, Any]]:
    """Couriers of data/catalogue/carriers.yml (name, aliases, tracking prefix)."""
    return _load(CATALOGUE_DIR / "carriers.yml", "carriers")


def carrier_prefix(name: str) -> str:
    for carrier in carriers():
        if carrier["name"] == name:
            return str(carrier["prefix"])
    raise KeyError(f"unknown carrier {name!r}")
