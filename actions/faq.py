"""action_answer_faq: answers a `faq` retrieval intent with the shop's figures.

The ResponseSelector picks the answer key (e.g. ``faq/shipping_fee``); the
response text in domain.yml has {placeholders} that Rasa's NLG fills from the
keyword arguments a custom action passes with ``utter_message`` (see
rasa/core/nlg/response.py ``_response_variables``).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.empathy import utter_empathy
from actions.policy import policy_figures
from actions.shop.repository import ShopUnavailable
from actions.stock import stock_answer
from actions.wording import SHOP_UNAVAILABLE
from bot.textnorm import is_elliptical_follow_up

logger = logging.getLogger(__name__)

# Below this confidence the chosen answer is more likely wrong than right.
MIN_RESPONSE_CONFIDENCE = 0.3


# 还有货吗 / 黑色XL有吗: answered from the shop database when the product is known (actions/stock.py).
STOCK_KEY = "faq/stock"


def selected_faq_key(latest_message: Dict[Text, Any]) -> Optional[Text]:
    """The `faq/<key>` the ResponseSelector chose, or None if unsure or absent.

    Rasa 3.6 stores it under ``response_selector[<retrieval intent>]``; the
    selector is keyed ``faq`` when configured with ``retrieval_intent: faq``
    and ``default`` otherwise.
    """
    selector = latest_message.get("response_selector") or {}
    block = selector.get("faq") or selector.get("default") or {}
    response = block.get("response") or {}
    key = response.get("intent_response_key")
    confidence = response.get("confidence") or 0.0
    if not key or not key.startswith("faq/"):
        return None
    if confidence < MIN_RESPONSE_CONFIDENCE:
        logger.info("faq answer %s below confidence (%.2f)", key, confidence)
        return None
    return key


def follow_up_faq_key(tracker: Tracker) -> Optional[Text]:
    """The FAQ key of the shopper's previous message when the latest one only asks the same
    about something else (空气炸锅几天发货 → 电饭煲呢); None otherwise. The shop's policy
    answers are the same for every product, so the previous answer is the answer."""
    latest = tracker.latest_message or {}
    if (latest.get("intent") or {}).get("name") == "faq":
        return None
    if not is_elliptical_follow_up(latest.get("text") or ""):
        return None
    users = [e for e in tracker.events if e.get("event") == "user"]
    for earlier in reversed(users[:-1]):  # 空气炸锅几天发货 → 电饭煲呢 → 那破壁机呢: back to the question
        parse = earlier.get("parse_data") or {}
        if (parse.get("intent") or {}).get("name") == "faq":
            return selected_faq_key(parse)
        if not is_elliptical_follow_up(earlier.get("text") or ""):
            return None
    return None


class ActionAnswerFaq(Action):
    """Utters `utter_faq/<key>` with the policy figures filled in; a short follow-up such as
    电饭煲呢 (read as inform) gets the previous message's answer again."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        key = follow_up_faq_key(tracker) or selected_faq_key(tracker.latest_message or {})
        response = f"utter_{key}" if key else None
        known = (domain or {}).get("responses", {})
        if response is None or (known and response not in known):
            logger.info("no usable faq answer (key=%s); asking to rephrase", key)
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        if key == STOCK_KEY:
            try:
                found = await stock_answer(tracker)
            except ShopUnavailable:
                dispatcher.utter_message(text=SHOP_UNAVAILABLE)
                return []
            if found:  # a product we sell: its stock from the database, not the template
                utter_empathy(dispatcher, tracker)
                dispatcher.utter_message(text=found[0])
                return [SlotSet("product", found[1])]
        utter_empathy(dispatcher, tracker)  # an upset shopper hears an apology first
        dispatcher.utter_message(response=response, **policy_figures())
        return []
