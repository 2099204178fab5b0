"""The shop's policy figures (settings/shop.yml), loaded once.

FAQ answers fill their {placeholders} from these values and the actions use
them for return windows, refund dates and the return address, so a shop
changes a figure in one place.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Dict

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY_FILE = REPO_ROOT / "settings" / "shop.yml"


@functools.lru_cache(maxsize=1)
def load_policy() -> Dict[str, Any]:
    """Read settings/shop.yml (or KEFU_SHOP_POLICY_FILE) once per process."""
    path = Path(os.environ.get("KEFU_SHOP_POLICY_FILE", DEFAULT_POLICY_FILE))
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of policy figures")
    return data


def policy_figures() -> Dict[str, str]:
    """All figures as strings, ready to pass as response variables."""
    return {key: str(value) for key, value in load_policy().items()}


def figure(name: str) -> Any:
    """One policy figure; a missing name is a configuration error."""
    policy = load_policy()
    if name not in policy:
        raise KeyError(f"settings/shop.yml has no figure {name!r}")
    return policy[name]


def refund_days(channel: str) -> tuple[int, int]:
    """Working days (min, max) a refund takes to arrive, by payment channel."""
    key = {
        "支付宝": "refund_days_alipay",
        "微信支付": "refund_days_wechat",
        "银行卡": "refund_days_card",
        "信用卡": "refund_days_credit",
    }.get(channel, "refund_days_card")
    low, _, high = str(figure(key)).partition("-")
    return int(low), int(high or low)
