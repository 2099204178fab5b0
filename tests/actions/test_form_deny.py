"""A deny inside the return/exchange form: a reason that starts with 不 answers the question,
a bare refusal ends the form (actions/form_deny.py, actions/refusal.py), against a real SQLite shop."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, Optional

import pytest
import yaml
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.form_deny import ActionFormDeny
from actions.policy import REPO_ROOT
from actions.refusal import is_bare_refusal
from actions.returns import ActionSubmitReturn, ValidateExchangeForm, ValidateReturnForm, parse_option
from tests.actions.conftest import make_tracker, slot_events, texts, verified

DOMAIN = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
HOODIE = "卫衣（灰色 M）"
CANCELLED = [ActiveLoop(None), SlotSet("requested_slot", None)]


async def deny(text_: str, form: str, asked: str, slots: Dict[str, Any]):
    """Run action_form_deny as Rasa does after the form rejected a deny."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text_, intent="deny", slots={**slots, "requested_slot": asked}, active_loop=form)
    return dispatcher, await ActionFormDeny().run(dispatcher, tracker, DOMAIN)


async def next_question(validator, slots: Dict[str, Any], form: str) -> Optional[str]:
    """The slot the form asks for next when it runs after action_form_deny: Rasa skips
    extraction (the previous action was not action_listen) and only asks the validator."""
    tracker = make_tracker("", slots=slots, active_loop=form)
    events = await validator.run(CollectingDispatcher(), tracker, DOMAIN)
    asked = slot_events(events).get("requested_slot", "unchanged")
    if asked == "unchanged":  # the validator left it to Rasa: the domain's order
        asked = next((s for s in DOMAIN["forms"][form]["required_slots"] if slots.get(s) is None), None)
    return asked


def service_requests(url: str) -> int:
    with create_engine(url).connect() as conn:
        return conn.execute(text("select count(*) from service_requests")).scalar()


# ------------------------------------------------------------------ what counts as bare
@pytest.mark.parametrize("message", [
    "不退了", "算了", "算了吧", "不用了", "不要了", "不了", "取消吧", "不想退了", "不", "no", "NO!",
    "不用了啦", "還是算了吧", "不用了，謝謝", "不換了", "唔使喇", "那就不退了吧", "取消退货申请", "不了不了",
])
def test_bare_refusals(message):
    assert is_bare_refusal(message)


@pytest.mark.parametrize("message", [
    "不喜欢了", "不合适", "不太满意", "不想要了，颜色不好看", "不喜歡了", "不合身", "颜色不好看",
    "不要黑色的，换白色", "算了不喜欢", "不是，是发错货了", "",
    "算了算了不退了不退了不要了不用了",  # long: more than a refusal even without content
])
def test_answers_and_long_messages_are_not_bare(message):
    assert not is_bare_refusal(message)


# ------------------------------------------------------------------ return_form
async def test_reason_said_as_deny_fills_the_reason_and_the_form_asks_for_confirmation(shop_db):
    slots = verified("fresh", return_item=HOODIE)
    dispatcher, events = await deny("不喜欢了", "return_form", "return_reason", slots)
    assert slot_events(events) == {"return_reason": "不喜欢了", "return_quality": False}
    assert ActiveLoop("return_form") in events and dispatcher.messages == []
    filled = {**slots, **slot_events(events)}
    assert await next_question(ValidateReturnForm(), filled, "return_form") == "return_confirmed"


async def test_quality_reason_said_as_deny_asks_for_the_damage(shop_db):
    slots = verified("old", return_item=HOODIE)
    _, events = await deny("不能用，质量太差", "return_form", "return_reason", slots)
    assert slot_events(events)["return_quality"] is True
    filled = {**slots, **slot_events(events)}
    assert await next_question(ValidateReturnForm(), filled, "return_form") == "damage_description"


async def test_reason_after_seven_days_gets_the_refusal_and_files_nothing(shop_db):
    slots = verified("old", return_item=HOODIE)
    dispatcher, events = await deny("不喜欢了", "return_form", "return_reason", slots)
    assert "超过了7天" in texts(dispatcher)
    filled = {**slots, **slot_events(events)}
    assert filled["return_refused"] is True
    assert await next_question(ValidateReturnForm(), filled, "return_form") is None  # the form ends
    dispatcher, _ = await _submit(filled)
    assert "RMA" not in texts(dispatcher) and service_requests(shop_db) == 0


@pytest.mark.parametrize("message", ["不退了", "算了吧", "不用了啦", "/deny"])
async def test_bare_refusal_cancels_the_return(shop_db, message):
    dispatcher, events = await deny(message, "return_form", "return_reason", verified("fresh", return_item=HOODIE))
    assert events == CANCELLED and dispatcher.messages == []


@pytest.mark.parametrize("asked", ["return_item", "damage_description", "return_confirmed"])
async def test_deny_to_other_questions_still_cancels(shop_db, asked):
    _, events = await deny("不喜欢了", "return_form", asked, verified("fresh", return_item=HOODIE))
    assert events == CANCELLED


async def test_deny_at_confirmation_still_means_no(shop_db):
    mappings = {m["intent"]: m["value"] for m in DOMAIN["slots"]["return_confirmed"]["mappings"]}
    assert mappings == {"affirm": True, "deny": False}
    slots = verified("fresh", return_item=HOODIE, return_reason="不喜欢了", return_quality=False,
                     return_confirmed=False)
    dispatcher, _ = await _submit(slots, "不用了")
    assert "没有提交" in texts(dispatcher) and service_requests(shop_db) == 0


async def _submit(slots: Dict[str, Any], message: str = ""):
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitReturn().run(dispatcher, make_tracker(message, slots=slots), DOMAIN)
    return dispatcher, events


# ------------------------------------------------------------------ exchange_form
async def test_unwanted_size_said_as_deny_is_read_as_the_wanted_option(shop_db):
    slots = verified("fresh", return_item=HOODIE)
    _, events = await deny("不要M码的，换L码", "exchange_form", "exchange_option", slots)
    assert slot_events(events) == {"exchange_option": "灰色 L"} and ActiveLoop("exchange_form") in events
    filled = {**slots, **slot_events(events)}
    assert await next_question(ValidateExchangeForm(), filled, "exchange_form") == "exchange_confirmed"


async def test_deny_without_an_option_asks_again_instead_of_cancelling(shop_db):
    slots = verified("fresh", return_item=HOODIE)
    dispatcher, events = await deny("不喜欢这个颜色", "exchange_form", "exchange_option", slots)
    assert slot_events(events) == {"exchange_option": None} and "想换成什么尺码或颜色" in texts(dispatcher)


async def test_bare_refusal_cancels_the_exchange(shop_db):
    _, events = await deny("不换了", "exchange_form", "exchange_option", verified("fresh", return_item=HOODIE))
    assert events == CANCELLED


def test_option_parsing_skips_what_the_shopper_does_not_want():
    item = SimpleNamespace(size="M", colour="黑色")
    variants = [SimpleNamespace(size=s, colour=c) for s in ("M", "L", "XL") for c in ("黑色", "白色")]
    assert parse_option(item, "不要黑色的，换白色", variants) == ("M", "白色")
    assert parse_option(item, "换成白色，不要黑色", variants) == ("M", "白色")
    assert parse_option(item, "不要XL，L就行", variants) == ("L", "黑色")
    assert parse_option(item, "换XL", variants) == ("XL", "黑色")
    assert parse_option(item, "黑色换L码", variants) == ("L", "黑色")
