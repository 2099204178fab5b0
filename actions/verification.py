"""Who may see an order: order number + last four phone digits, three tries.

Order actions subclass OrderAction. When the conversation has no verified
order yet, the action remembers what was asked (slot pending_request) and
activates verify_order_form by returning ActiveLoop; Rasa's RulePolicy then
runs the form (loop happy path). When the form ends, the rule
"resume after verification" runs action_resume_request, which answers the
remembered question. Three failed checks set verification_locked: no further
lookups in this conversation, and the rules offer a human.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.empathy import EmpathyFirst
from actions.parsing import (
    ORDER_NO, PHONE_TAIL, digits_only, digit_runs, order_no_in, phone_tail_in,
    wants_latest_order,
)
from actions.shop.models import Order
from actions.shop.repository import ShopRepository, ShopUnavailable, Verification
from actions.wording import SHOP_UNAVAILABLE

logger = logging.getLogger(__name__)

MAX_TRIES = 3
VERIFY_FORM = "verify_order_form"

# Slots (declared in domain.yml, "orders, returns, usage" section).
VERIFIED_ORDER = "verified_order_id"
VERIFIED_CUSTOMER = "verified_customer_id"
FAILURES = "verify_failures"
LOCKED = "verification_locked"
PENDING = "pending_request"
# The verified buyer as action_handoff puts them on the ticket (customer id, VIP tier).
CUSTOMER_ID = "customer_id"
VIP_TIER = "vip_tier"

LOCKED_TEXT = ("为了保护您的账户安全，连续{n}次核对未通过后，本次对话小美不能再查询订单信息了。"
               "需要的话可以回复「转人工」，由人工客服帮您核实处理。").format(n=MAX_TRIES)


def repository() -> ShopRepository:
    """The shop repository for the configured database (engine cached per URL)."""
    return ShopRepository()


def masked(order_no: Optional[str]) -> str:
    return f"{order_no[:4]}…{order_no[-4:]}" if order_no and len(order_no) > 8 else "?"


def customer_slots(check: Verification) -> List[EventType]:
    """The verified buyer for later handoff tickets: who they are and their VIP tier."""
    return [SlotSet(VERIFIED_CUSTOMER, str(check.customer_id)), SlotSet(CUSTOMER_ID, str(check.customer_id)),
            SlotSet(VIP_TIER, check.vip_tier)]


def failures(tracker: Tracker) -> int:
    try:
        return int(float(tracker.get_slot(FAILURES) or 0))
    except (TypeError, ValueError):
        return 0


class OrderAction(Action, ABC):
    """An action that answers about one verified order of the shopper.

    Subclasses implement ``handle(order, dispatcher, tracker)``; ``run`` makes
    sure the order is verified first and turns database failures into a
    polite answer.
    """

    @abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    @abstractmethod
    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        """Answer about the verified order."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        return await self.answer(dispatcher, tracker, resumed=False)

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     resumed: bool) -> List[EventType]:
        # An upset shopper hears an apology before whatever this answer turns out to be.
        dispatcher = EmpathyFirst(dispatcher, tracker)
        if tracker.get_slot(LOCKED):
            logger.info("%s refused: verification locked (%s)", self.name(), tracker.sender_id)
            dispatcher.utter_message(text=LOCKED_TEXT)
            return []
        try:
            order, events = await self._target_order(tracker, resumed)
            if order is None:
                if events is None:
                    # Not verified yet: remember the question, start the form.
                    dispatcher.utter_message(text="亲，为了保护您的隐私，查询订单前需要先核对一下身份哦~")
                    events = [SlotSet(PENDING, self.name())]
                    if tracker.get_slot(VERIFIED_ORDER):
                        # Another order than the verified one: ask its phone tail afresh.
                        events.append(SlotSet("phone_tail", None))
                    return events + [ActiveLoop(VERIFY_FORM)]
                dispatcher.utter_message(text="抱歉亲，没有找到这个订单，请核对订单号后再告诉我哦。")
                return events
            events = events + await self.handle(order, dispatcher, tracker)
            if any(e.get("event") == "active_loop" and e.get("name") for e in events):
                dispatcher.flush()  # the form asks next: the apology must not wait for it
            return events
        except ShopUnavailable:
            logger.error("%s: shop database unavailable", self.name())
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return []

    async def _target_order(self, tracker: Tracker, resumed: bool):
        """(order, extra events), or (None, None) when verification is needed."""
        repo = repository()
        verified = tracker.get_slot(VERIFIED_ORDER)
        customer = tracker.get_slot(VERIFIED_CUSTOMER)
        asked = digits_only(tracker.get_slot("order_id"))
        text = (tracker.latest_message or {}).get("text")
        if not verified or not customer:
            return None, None
        if not resumed and wants_latest_order(text) and not order_no_in(text):
            latest = await repo.latest_order(int(customer))
            if latest is not None:
                events = [SlotSet(VERIFIED_ORDER, latest.order_no), SlotSet("order_id", latest.order_no)]
                return latest, events
        if asked and asked != verified and ORDER_NO.match(asked):
            # A different order than the verified one: same buyer's phone tail?
            tail = digits_only(tracker.get_slot("phone_tail"))
            check = await repo.verify(asked, tail) if tail else None
            if check is None or not check.ok:
                logger.info("order %s not verified for this shopper; asking again", masked(asked))
                return None, None
            order = await repo.get_order(asked)
            return order, [SlotSet(VERIFIED_ORDER, asked), *customer_slots(check)]
        order = await repo.get_order(verified)
        return order, ([] if order is not None else [SlotSet(VERIFIED_ORDER, None)])


class ValidateVerifyOrderForm(FormValidationAction):
    """Fills order_id / phone_tail (entities or bare numbers) and checks them."""

    def name(self) -> Text:
        return "validate_verify_order_form"

    async def extract_order_id(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        text = (tracker.latest_message or {}).get("text")
        found = order_no_in(text)
        if found:
            return {"order_id": found}
        if tracker.get_slot("requested_slot") == "order_id":
            runs = [r for r in digit_runs(text) if len(r) >= 5 and len(r) != 11]
            if runs:
                return {"order_id": runs[0]}  # malformed: validate_order_id explains
        return {}

    async def extract_phone_tail(self, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        text = (tracker.latest_message or {}).get("text")
        asked = tracker.get_slot("requested_slot") == "phone_tail"
        found = phone_tail_in(text, asked=asked)
        return {"phone_tail": found} if found else {}

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain) -> Dict[Text, Any]:
        number = digits_only(value)
        if ORDER_NO.match(number):
            return {"order_id": number}
        logger.info("malformed order number (%d digits)", len(number))
        dispatcher.utter_message(text="亲，订单号是16到19位的数字哦，可以在「我的订单」里复制一下再发给我~")
        return {"order_id": None}

    def validate_phone_tail(self, value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker, domain) -> Dict[Text, Any]:
        tail = digits_only(value)
        if len(tail) == 11:
            tail = tail[-4:]
        if PHONE_TAIL.match(tail):
            return {"phone_tail": tail}
        dispatcher.utter_message(text="亲，请告诉我下单手机号的后4位数字哦，比如「尾号6621」。")
        return {"phone_tail": None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot(LOCKED):
            dispatcher.utter_message(text=LOCKED_TEXT)
            return [SlotSet("requested_slot", None)]
        events = await super().run(dispatcher, tracker, domain)
        slots = dict(tracker.slots)
        for event in events:
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
        order_no, tail = slots.get("order_id"), slots.get("phone_tail")
        if not order_no or not tail:
            return events
        try:
            check = await repository().verify(order_no, tail)
        except ShopUnavailable:
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return events + [SlotSet(PENDING, None), SlotSet("requested_slot", None)]
        if check.ok:
            logger.info("order %s verified", masked(order_no))
            return events + [
                SlotSet(VERIFIED_ORDER, order_no),
                *customer_slots(check),
                SlotSet(FAILURES, 0),
            ]
        tries = failures(tracker) + 1
        logger.info("verification failed (%s) for order %s, try %d/%d",
                    check.outcome, masked(order_no), tries, MAX_TRIES)
        events.append(SlotSet(FAILURES, tries))
        if tries >= MAX_TRIES:
            return events + [
                # The lock leads to the offer of a human (utter_verification_locked);
                # the ticket's reason (verification_failed) is derived when the
                # shopper accepts. Setting handoff_reason here would make the
                # escalation policy hand off before the offer is made.
                SlotSet(LOCKED, True),
                SlotSet("order_id", None), SlotSet("phone_tail", None),
                SlotSet(PENDING, None), SlotSet("requested_slot", None),
            ]
        left = MAX_TRIES - tries
        if check.outcome == "unknown_order":
            dispatcher.utter_message(
                text=f"抱歉亲，没有查到订单号 {order_no} 哦，麻烦核对一下再发我（还可以再试{left}次）。")
            return events + [SlotSet("order_id", None)]
        dispatcher.utter_message(
            text=f"抱歉亲，订单号和手机尾号对不上哦，请核对后重新告诉我订单号和下单手机的后4位（还可以再试{left}次）。")
        return events + [SlotSet("order_id", None), SlotSet("phone_tail", None)]


class ActionResumeRequest(Action):
    """After verify_order_form: answers the question that started it."""

    def name(self) -> Text:
        return "action_resume_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        pending = tracker.get_slot(PENDING)
        if tracker.get_slot(LOCKED) or not tracker.get_slot(VERIFIED_ORDER):
            return [SlotSet(PENDING, None)]
        action = ORDER_ACTIONS.get(pending)
        if action is None:
            dispatcher.utter_message(text="亲，身份核对好啦 ✅ 请问要查询或办理什么呢？")
            return [SlotSet(PENDING, None)]
        events = await action().answer(dispatcher, tracker, resumed=True)
        return [SlotSet(PENDING, None)] + events


# Filled by the order-action modules (name -> class) so resume can find them.
ORDER_ACTIONS: Dict[str, type] = {}


def order_action(cls):
    """Class decorator registering an OrderAction for resume-after-verification."""
    ORDER_ACTIONS[cls().name()] = cls
    return cls
