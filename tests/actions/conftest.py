"""Action tests: a real SQLite shop seeded per test, trackers from Tracker.from_dict."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.importer import load_dataset
from actions.shop.db import dispose_engines
from tests.actions import shopdata


@pytest.fixture
async def shop_db(tmp_path, monkeypatch) -> str:
    """A freshly seeded SQLite shop; KEFU_SHOP_DB_URL points at it."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setenv("KEFU_SHOP_DB_URL", url)
    await load_dataset(shopdata.build(), url)
    yield url
    await dispose_engines()


def make_tracker(text: str = "", intent: str = "check_order_status", slots: Optional[Dict[str, Any]] = None,
                 entities: Optional[List[Dict[str, Any]]] = None, active_loop: Optional[str] = None) -> Tracker:
    """A tracker as the action server receives it, via Tracker.from_dict."""
    return Tracker.from_dict({
        "sender_id": "test-shopper",
        "slots": dict(slots or {}),
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.99},
                           "entities": entities or []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": "action_listen",
    })


def verified(key: str, **extra: Any) -> Dict[str, Any]:
    """Slots of a conversation whose shopper verified the order ``key``."""
    slots = {"verified_order_id": shopdata.ORDERS[key], "verified_customer_id": "1",
             "order_id": shopdata.ORDERS[key], "phone_tail": "6621"}
    slots.update(extra)
    return slots


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
