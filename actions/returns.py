"""Returns and exchanges: eligibility, reason, confirmation, then an RMA number."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import is_quality_issue, return_refusal, shipping_payer
from actions.parsing import normalise, plain_text
from actions.policy import figure
from actions.shop.models import DELIVERED_STATES, IN_TRANSIT_STATES, NOT_SHIPPED_STATES, Order, OrderItem
from actions.shop.repository import ShopUnavailable
from actions.verification import VERIFIED_ORDER, OrderAction, masked, order_action, repository
from actions.wording import SHOP_UNAVAILABLE

logger = logging.getLogger(__name__)

RETURN_SLOTS = ("return_item", "return_reason", "damage_description", "return_confirmed",
                "return_quality", "return_refused")
EXCHANGE_SLOTS = ("return_item", "exchange_option", "exchange_confirmed", "exchange_refused")


def _reset(names) -> List[EventType]:
    return [SlotSet(name, None) for name in names]


def match_item(order: Order, text: Optional[str]) -> Optional[OrderItem]:
    """The order item the shopper means: by product name/alias, or the only one."""
    if len(order.items) == 1:
        return order.items[0]
    clean = normalise(text)
    for item in order.items:
        product = item.product
        if any(word and word in clean for word in [product.name, *(product.aliases or [])]):
            return item
    for index, word in enumerate(("第一", "第二", "第三", "第四")):
        if word in clean and index < len(order.items):
            return order.items[index]
    return None


def order_refusal(order: Order, kind: str) -> Optional[str]:
    """Order-level reasons a return/exchange cannot start now."""
    if order.status in NOT_SHIPPED_STATES:
        return (f"亲，订单 {order.order_no} 还没发货哦，不需要{kind}。"
                + ("想退款的话回复「取消订单」就可以直接取消并原路退款。" if kind == "退货" else "想换款式的话可以取消订单后重新下单。"))
    if order.status in IN_TRANSIT_STATES:
        return (f"亲，订单 {order.order_no} 还在运输途中，签收后才能申请{kind}哦。"
                "不想要的话也可以直接拒收，包裹退回后我们给您退款。")
    if order.status not in DELIVERED_STATES:
        return f"亲，订单 {order.order_no} 当前是「{order.status}」，不能再申请{kind}了。"
    return None


async def _order(tracker: Tracker) -> Optional[Order]:
    order_no = tracker.get_slot(VERIFIED_ORDER)
    return await repository().get_order(order_no) if order_no else None


class _StartAfterSales(OrderAction):
    kind = "退货"
    form = "return_form"
    slots: Tuple[str, ...] = RETURN_SLOTS

    async def handle(self, order: Order, dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> List[EventType]:
        refusal = order_refusal(order, self.kind)
        if refusal:
            dispatcher.utter_message(text=refusal)
            return []
        existing = await repository().open_request(order.order_no)
        if existing is not None:
            dispatcher.utter_message(text=(
                f"亲，订单 {order.order_no} 已经有一个{existing.kind}申请在处理中（{existing.rma_no}，{existing.state}），"
                "不用重复申请哦。寄回地址：" + str(figure("return_address"))))
            return []
        events = _reset(self.slots)
        item = match_item(order, (tracker.latest_message or {}).get("text"))
        if item is not None:
            events.append(SlotSet("return_item", item.label))
        return events + self.prefill(tracker) + [ActiveLoop(self.form)]

    def prefill(self, tracker: Tracker) -> List[EventType]:
        return []


@order_action
class ActionRequestReturn(_StartAfterSales):
    def name(self) -> Text:
        return "action_request_return"

    def prefill(self, tracker: Tracker) -> List[EventType]:
        # "收到的杯子碎了" (report_damaged) already says why: a quality return.
        latest = tracker.latest_message or {}
        if (latest.get("intent") or {}).get("name") == "report_damaged":
            return [SlotSet("return_reason", latest.get("text") or "商品破损")]
        return []


@order_action
class ActionRequestExchange(_StartAfterSales):
    kind = "换货"
    form = "exchange_form"
    slots = EXCHANGE_SLOTS

    def name(self) -> Text:
        return "action_request_exchange"


class _ItemValidation:
    """Mixin: which order item the return/exchange is about (needs a FormValidationAction)."""

    kind = "退货"

    async def validate_return_item(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        try:
            order = await _order(tracker)
        except ShopUnavailable:
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return {"return_item": None, f"{'return' if self.kind == '退货' else 'exchange'}_refused": True}
        if order is None:
            return {"return_item": None}
        item = next((i for i in order.items if i.label == value), None) or match_item(order, str(value))
        if item is None:
            names = "、".join(i.label for i in order.items)
            dispatcher.utter_message(text=f"亲，这个订单里有：{names}。请问是哪一件要{self.kind}呢？")
            return {"return_item": None}
        return {"return_item": item.label}


async def _item(tracker: Tracker) -> Tuple[Optional[Order], Optional[OrderItem]]:
    order = await _order(tracker)
    if order is None:
        return None, None
    label = tracker.get_slot("return_item")
    return order, next((i for i in order.items if i.label == label), None)


class ValidateReturnForm(_ItemValidation, FormValidationAction):
    def name(self) -> Text:
        return "validate_return_form"

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain) -> List[Text]:
        if tracker.get_slot("return_refused"):
            return []
        slots = ["return_item", "return_reason"]
        if tracker.get_slot("return_quality"):
            slots.append("damage_description")
        return slots + ["return_confirmed"]

    async def validate_return_reason(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        reason = plain_text(value, 500) or ""
        if len(reason) < 2:
            dispatcher.utter_message(text="亲，麻烦说一下退货原因哦，比如「尺码不合适」「不喜欢」「收到时破损了」。")
            return {"return_reason": None}
        quality = is_quality_issue(reason)
        try:
            order, item = await _item(tracker)
        except ShopUnavailable:
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return {"return_reason": reason, "return_refused": True}
        if order is None or item is None:
            return {"return_reason": reason, "return_quality": quality}
        refusal = return_refusal(order, item, quality, "退货")
        if refusal:
            logger.info("return refused for order %s: %s", masked(order.order_no), refusal[:30])
            dispatcher.utter_message(text=refusal)
            return {"return_reason": reason, "return_quality": quality, "return_refused": True}
        return {"return_reason": reason, "return_quality": quality}

    def validate_damage_description(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        text = plain_text(value, 1000) or ""
        if len(text) < 4:
            dispatcher.utter_message(text="亲，请再具体描述一下问题（哪里坏了/发错了什么），方便仓库核实哦。")
            return {"damage_description": None}
        return {"damage_description": text}


class ActionAskDamageDescription(Action):
    def name(self) -> Text:
        return "action_ask_damage_description"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        dispatcher.utter_message(text=(
            "非常抱歉给您带来不好的体验 🙏 质量问题不受7天期限限制。请描述一下具体情况（哪里损坏/发错了什么），"
            "并拍几张照片：商品问题部位、外包装和快递面单，提交申请后在订单的售后页面上传即可。"))
        return []


class ActionAskReturnConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_return_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        quality = bool(tracker.get_slot("return_quality"))
        _payer, payer_text = shipping_payer(quality)
        note = ""
        try:
            _order_obj, item = await _item(tracker)
            if item is not None and item.product.returnable_if_unopened and not quality:
                note = "\n温馨提示：该商品拆封后不支持无理由退货，请确认未拆封、不影响二次销售。"
        except ShopUnavailable:
            pass
        dispatcher.utter_message(text=(
            f"帮您核对一下：退货商品 {tracker.get_slot('return_item')}，原因：{tracker.get_slot('return_reason')}。\n"
            f"{payer_text}{note}\n确认提交退货申请吗？回复「是」提交，「不用了」取消。"))
        return []


def _not_submitted(tracker: Tracker, dispatcher: CollectingDispatcher, flow: str, kind: str) -> bool:
    """True when the request must not be filed: policy refused it (already explained), or the
    shopper did not confirm (told here that nothing was filed)."""
    if tracker.get_slot(f"{flow}_refused"):
        return True
    if not tracker.get_slot(f"{flow}_confirmed"):
        dispatcher.utter_message(text=f"好的亲，{kind}申请没有提交。还有其他可以帮您的吗？")
        return True
    return False


class ActionSubmitReturn(Action):
    def name(self) -> Text:
        return "action_submit_return"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = _reset(RETURN_SLOTS)
        if _not_submitted(tracker, dispatcher, "return", "退货"):
            return reset
        quality = bool(tracker.get_slot("return_quality"))
        payer, payer_text = shipping_payer(quality)
        try:
            order, item = await _item(tracker)
            if order is None or item is None:
                raise LookupError("order or item gone")
            request = await repository().create_request(
                order_no=order.order_no, order_item_id=item.id, kind="退货",
                reason=tracker.get_slot("return_reason"), quality_issue=quality,
                shipping_paid_by=payer, damage_description=tracker.get_slot("damage_description"),
            )
        except (ShopUnavailable, LookupError):
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return reset
        logger.info("return %s filed for order %s", request.rma_no, masked(order.order_no))
        dispatcher.utter_message(text=(
            f"退货申请已提交 ✅ 售后单号：{request.rma_no}\n"
            f"请在7天内把商品（含配件、吊牌、包装）寄回：{figure('return_address')}\n"
            f"寄件时请在包裹里放一张纸条写上售后单号。{payer_text}\n"
            f"仓库收到后{figure('refund_review_hours')}小时内验收，验收通过立即原路退款。"))
        return reset


# ---------------------------------------------------------------- exchanges
# A size or colour right after these is the one the shopper does not want (不要黑色的，换白色).
_NOT_WANTED = ("不要", "不想要", "不是")


def _wanted(values, clean: str, bought: Optional[str]) -> Optional[str]:
    """The value the shopper asks for: named without 不要/不想要/不是 right before it (the one
    named first), and one they did not buy when they name several (不要M码，换L码 bought in M).
    Longer values are read first and blanked out, so the L inside XL is not a mention."""
    named = []
    for value in sorted(set(values), key=len, reverse=True):
        key = value.upper()
        starts = [i for i in range(len(clean)) if clean.startswith(key, i)]
        free = [i for i in starts if not clean[:i].endswith(_NOT_WANTED)]
        if free:
            named.append((free[0], value))
        clean = clean.replace(key, "\0" * len(key))
    named = [value for _position, value in sorted(named)]
    return next((v for v in named if v != bought), named[0] if named else None)


def parse_option(item: OrderItem, text: str, variants) -> Tuple[str, str]:
    """(size, colour) the shopper wants; unspecified parts stay as bought."""
    clean = normalise(text).upper()
    size = _wanted([v.size for v in variants if v.size], clean, item.size)
    ordered = [v.size for v in variants if v.size]
    ordered = list(dict.fromkeys(ordered))
    if size is None and item.size in ordered:
        index = ordered.index(item.size)
        if any(w in clean for w in ("大一码", "大一号", "大点", "大一点", "大码")) and index + 1 < len(ordered):
            size = ordered[index + 1]
        elif any(w in clean for w in ("小一码", "小一号", "小点", "小一点", "小码")) and index > 0:
            size = ordered[index - 1]
    colour = _wanted([v.colour for v in variants if v.colour], clean, item.colour)
    return size or item.size, colour or item.colour


class ValidateExchangeForm(_ItemValidation, FormValidationAction):
    kind = "换货"

    def name(self) -> Text:
        return "validate_exchange_form"

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain) -> List[Text]:
        if tracker.get_slot("exchange_refused"):
            return []
        return ["return_item", "exchange_option", "exchange_confirmed"]

    async def validate_return_item(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        result = await super().validate_return_item(value, dispatcher, tracker, domain)
        if not result.get("return_item"):
            return result
        tracker.slots.update(result)
        order, item = await _item(tracker)
        if item is None:
            return result
        quality = is_quality_issue((tracker.latest_message or {}).get("text") or "")
        refusal = return_refusal(order, item, quality, "换货")
        if refusal is None and len(item.product.variants) <= 1:
            refusal = f"亲，{item.product.name}只有一个款式，没有其他尺码或颜色可以换哦。如果有质量问题，可以回复「我要退货」说明情况。"
        if refusal:
            dispatcher.utter_message(text=refusal)
            return {**result, "exchange_refused": True}
        return result

    async def validate_exchange_option(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        try:
            order, item = await _item(tracker)
            if item is None:
                return {"exchange_option": None}
            variants = await repository().variants(item.product_id)
            size, colour = parse_option(item, str(value or ""), variants)
            if (size, colour) == (item.size, item.colour):
                dispatcher.utter_message(text=f"亲，想换成什么尺码或颜色呢？可选：{_options(variants)}")
                return {"exchange_option": None}
            stock = await repository().variant_stock(item.product_id, size, colour)
        except ShopUnavailable:
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return {"exchange_option": None, "exchange_refused": True}
        wanted = " ".join(p for p in (colour, size) if p)
        if stock <= 0:
            in_stock = [v for v in variants if v.stock > 0 and (v.size, v.colour) != (item.size, item.colour)]
            logger.info("exchange wanted %s of %s: out of stock", wanted, item.product.name)
            dispatcher.utter_message(text=(
                f"抱歉亲，{item.product.name}（{wanted}）暂时缺货了 😢 "
                + (f"目前有货的款式：{'、'.join(v.label for v in in_stock)}，可以换成这些；" if in_stock else "其他款式也暂时没货；")
                + "或者回复「我要退货」办理退货退款。"))
            return {"exchange_option": None}
        return {"exchange_option": wanted}


def _options(variants) -> str:
    return "、".join(v.label for v in variants if v.stock > 0) or "暂无其他有货款式"


class ActionAskExchangeConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_exchange_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        quality = is_quality_issue(str(tracker.get_slot("exchange_option") or ""))
        _payer, payer_text = shipping_payer(quality)
        dispatcher.utter_message(text=(
            f"帮您核对一下：{tracker.get_slot('return_item')} 换成「{tracker.get_slot('exchange_option')}」，有货 ✅\n"
            f"{payer_text}\n确认提交换货申请吗？回复「是」提交，「不用了」取消。"))
        return []


class ActionSubmitExchange(Action):
    def name(self) -> Text:
        return "action_submit_exchange"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = _reset(EXCHANGE_SLOTS)
        if _not_submitted(tracker, dispatcher, "exchange", "换货"):
            return reset
        try:
            order, item = await _item(tracker)
            if order is None or item is None:
                raise LookupError("order or item gone")
            variants = await repository().variants(item.product_id)
            size, colour = parse_option(item, tracker.get_slot("exchange_option") or "", variants)
            payer, payer_text = shipping_payer(False)
            request = await repository().create_request(
                order_no=order.order_no, order_item_id=item.id, kind="换货",
                reason=f"换成{tracker.get_slot('exchange_option')}", quality_issue=False,
                shipping_paid_by=payer, wanted_size=size or None, wanted_colour=colour or None,
            )
        except (ShopUnavailable, LookupError):
            dispatcher.utter_message(text=SHOP_UNAVAILABLE)
            return reset
        logger.info("exchange %s filed for order %s", request.rma_no, masked(order.order_no))
        dispatcher.utter_message(text=(
            f"换货申请已提交 ✅ 售后单号：{request.rma_no}\n"
            f"请把原商品寄回：{figure('return_address')}（包裹里放纸条写上售后单号）。{payer_text}\n"
            "仓库收到后1-2天内给您发出新商品，发货后可以随时问我物流。"))
        return reset
