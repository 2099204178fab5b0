"""ask_product_usage: answers from the product's usage guide."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.empathy import EmpathyFirst
from actions.guide_search import best_section
from actions.shop.models import Product
from actions.shop.repository import ShopUnavailable
from actions.verification import VERIFIED_ORDER, repository
from actions.wording import SHOP_UNAVAILABLE

logger = logging.getLogger(__name__)


async def named_product(tracker: Tracker) -> Optional[Product]:
    """The product the shopper means: named now (entity or text), earlier (slot), else the one
    in the verified order."""
    repo = repository()
    text = (tracker.latest_message or {}).get("text") or ""
    entity = next(tracker.get_latest_entity_values("product"), None)
    for candidate in (entity, text, tracker.get_slot("product")):
        if candidate:
            product = await repo.find_product(str(candidate))
            if product is not None:
                return product
    order_no = tracker.get_slot(VERIFIED_ORDER)
    if order_no:
        order = await repo.get_order(order_no)
        if order is not None and order.items:
            return order.items[0].product
    return None


class ActionAskProductUsage(Action):
    """The product named (entity or text), else the one in the verified order."""

    def name(self) -> Text:
        return "action_ask_product_usage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        question = (tracker.latest_message or {}).get("text") or ""
        dispatcher = EmpathyFirst(dispatcher, tracker)  # an upset shopper hears an apology first
        try:
            product = await named_product(tracker)
        except ShopUnavailable:
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return []
        if product is None:
            logger.info("usage question without a known product")
            dispatcher.utter_message(text="亲，请问是哪件商品的使用问题呢？告诉我商品名（比如「空气炸锅」「电动牙刷」），小美帮您查说明~")
            return []
        guide = product.usage_guide or {}
        words = tuple([product.name, *(product.aliases or [])])
        found = best_section(guide, question, words)
        if found is None:
            sections = "、".join(guide) or "暂无"
            logger.info("usage guide of %s has no answer", product.name)
            dispatcher.utter_message(text=(
                f"抱歉亲，{product.name}的使用说明里没有找到这个问题的答案 😅 说明里有：{sections}，可以换个问法；"
                "或者回复「转人工」让客服帮您解答。"))
            return [SlotSet("product", product.name)]
        title, text = found
        dispatcher.utter_message(text=f"亲，{product.name}【{title}】：\n{text}")
        return [SlotSet("product", product.name)]
