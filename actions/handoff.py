"""``action_handoff``: hand the conversation to a human agent.

Posts the ticket (actions/handoff_ticket.py) to the handoff service with the
shared bot secret, tells the shopper their place in the queue and the
estimated wait, and pauses the Rasa conversation so the bot stays silent
while a person answers (the handoff service resumes it afterwards). A form
that was active is closed first, so after the agent the bot starts afresh
instead of asking the form's question again. If the handoff service cannot
be reached the shopper gets a polite note and the bot keeps serving (and
the form, if any, goes on).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff_ticket import build_ticket

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 8


class HandoffUnavailable(Exception):
    """The handoff service did not take the ticket."""

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def handoff_url() -> str:
    return os.environ.get("KEFU_HANDOFF_URL", "http://127.0.0.1:8080").rstrip("/")


def bot_secret() -> str:
    return os.environ.get("KEFU_BOT_SECRET", "dev-bot-secret")


def retry_delays() -> List[float]:
    """Pauses before retrying while the service restarts (connection refused, 502/503).

    ``KEFU_HANDOFF_RETRY_SECONDS`` in all (default 20): a graceful restart lets
    in-flight turns finish, then the new process needs a few seconds to start,
    more on a busy machine. The ticket must not be lost to a restart, and posting
    it twice is harmless (one open ticket per conversation: 200 "created": false).
    """
    try:
        budget = float(os.environ.get("KEFU_HANDOFF_RETRY_SECONDS", "20"))
    except ValueError:
        budget = 20.0
    delays: List[float] = []
    for step in itertools.chain((0.25, 0.5, 1.0, 1.5, 2.0, 3.0), itertools.repeat(4.0)):
        if sum(delays) + step > budget:
            return delays
        delays.append(step)
    return delays  # pragma: no cover - the loop always returns


async def post_ticket(ticket: Dict[str, Any]) -> Dict[str, Any]:
    """POST /api/bot/handoff; the service's answer (queue place, wait ...)."""
    for delay in (*retry_delays(), None):
        try:
            return await _post_ticket_once(ticket)
        except HandoffUnavailable as error:
            if delay is None or not error.retryable:
                raise
            log.info("handoff service not ready (%s); retrying in %.2f s", error, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _post_ticket_once(ticket: Dict[str, Any]) -> Dict[str, Any]:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session:
            async with session.post(
                f"{handoff_url()}/api/bot/handoff", json=ticket,
                headers={"Authorization": f"Bearer {bot_secret()}"},
            ) as resp:
                body = await resp.json(content_type=None)
                if resp.status not in (200, 201):
                    raise HandoffUnavailable(f"HTTP {resp.status}: {body}", retryable=resp.status in (502, 503))
                return body
    except aiohttp.ClientConnectionError as error:
        raise HandoffUnavailable(str(error) or type(error).__name__, retryable=True) from error
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise HandoffUnavailable(str(error) or type(error).__name__) from error


async def order_context(tracker: Tracker) -> tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(order, customer) from the shop database when the shopper named an order."""
    order_no = tracker.get_slot("order_id") if "order_id" in tracker.slots else None
    if not order_no:
        return None, None
    try:
        from actions.shop.repository import ShopRepository

        order = await asyncio.wait_for(ShopRepository().get_order(str(order_no)), timeout=3)
    except Exception as error:  # the ticket is still worth sending without it
        log.info("order lookup for handoff failed: %s", error)
        return None, None
    if order is None:
        return {"id": str(order_no), "amount": None}, None
    customer = None
    if getattr(order, "customer", None) is not None:
        customer = {"id": str(order.customer.id), "vip_tier": order.customer.vip_tier}
    return {"id": order.order_no, "amount": float(order.total)}, customer


def wait_minutes(seconds: Optional[float]) -> int:
    return max(1, round((seconds or 0) / 60))


def close_active_form(tracker: Tracker) -> List[Dict[Text, Any]]:
    """Events that end the active form, if any, before the conversation pauses."""
    if not tracker.active_loop_name:
        return []
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        order, customer = await order_context(tracker)
        ticket = build_ticket(tracker, order=order, customer=customer)
        try:
            answer = await post_ticket(ticket)
        except HandoffUnavailable as error:
            log.warning("handoff failed for %s: %s", tracker.sender_id, error)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return []
        if answer.get("status") == "assigned":
            dispatcher.utter_message(response="utter_handoff_assigned", agent_name=answer.get("agent_name") or "客服")
        elif answer.get("estimated_wait_seconds") is None:
            dispatcher.utter_message(response="utter_handoff_offline")
        else:
            dispatcher.utter_message(
                response="utter_handoff_queued",
                ahead=max(int(answer.get("queue_position") or 1) - 1, 0),
                wait_minutes=wait_minutes(answer.get("estimated_wait_seconds")),
            )
        return close_active_form(tracker) + [ConversationPaused()]
