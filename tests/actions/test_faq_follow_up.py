"""A short follow-up after an FAQ answer (空气炸锅几天发货 → 电饭煲呢) gets the same answer again."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq, follow_up_faq_key

DOMAIN = {"responses": {"utter_faq/ship_time": [{"text": "48小时内发货"}],
                        "utter_faq/remote_area": [{"text": "新疆西藏可以发"}],
                        "utter_ask_rephrase": [{"text": "能换个说法吗"}]}}


def _user(text: str, intent: str, key: str | None = None, confidence: float = 0.9) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []}
    if key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": key, "confidence": confidence}}}
    return {"event": "user", "text": text, "parse_data": parse}


def _tracker(*users: dict) -> Tracker:
    events = []
    for user in users:
        events += [user, {"event": "action", "name": "action_answer_faq"}, {"event": "action", "name": "action_listen"}]
    events = events[:-2]
    return Tracker.from_dict({"sender_id": "s", "slots": {}, "latest_message": users[-1]["parse_data"],
                              "events": events, "paused": False, "followup_action": None, "active_loop": {},
                              "latest_action_name": "action_listen"})


async def _answer(tracker: Tracker) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker, DOMAIN)
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize("follow_up", ["电饭煲呢", "那破壁机呢？", "羽绒服也一样吗", "那XXL呢~"])
async def test_the_same_question_about_another_product_gets_the_same_answer(follow_up: str) -> None:
    tracker = _tracker(_user("空气炸锅几天发货", "faq", "faq/ship_time"), _user(follow_up, "inform", "faq/remote_area"))
    assert await _answer(tracker) == ["utter_faq/ship_time"]


@pytest.mark.parametrize("text", ["订单号 6201938475610293", "为什么还没发货呢", "那个锅盖的密封圈能单独买吗"])
async def test_anything_else_after_an_faq_answer_is_not_taken_as_a_follow_up(text: str) -> None:
    tracker = _tracker(_user("空气炸锅几天发货", "faq", "faq/ship_time"), _user(text, "inform"))
    assert follow_up_faq_key(tracker) is None
    assert await _answer(tracker) == ["utter_ask_rephrase"]


async def test_a_follow_up_after_an_unsure_faq_answer_is_not_repeated() -> None:
    tracker = _tracker(_user("那个啥", "faq", "faq/ship_time", confidence=0.1), _user("电饭煲呢", "inform"))
    assert follow_up_faq_key(tracker) is None


async def test_a_real_faq_question_is_answered_by_its_own_key() -> None:
    tracker = _tracker(_user("空气炸锅几天发货", "faq", "faq/ship_time"), _user("新疆呢", "faq", "faq/remote_area"))
    assert await _answer(tracker) == ["utter_faq/remote_area"]


async def test_a_second_follow_up_in_a_row_still_gets_the_answer() -> None:
    tracker = _tracker(_user("空气炸锅几天发货", "faq", "faq/ship_time"), _user("电饭煲呢", "inform"),
                       _user("那破壁机呢", "inform"))
    assert await _answer(tracker) == ["utter_faq/ship_time"]


async def test_a_follow_up_after_another_kind_of_message_is_not_an_faq_follow_up() -> None:
    tracker = _tracker(_user("空气炸锅几天发货", "faq", "faq/ship_time"), _user("我的订单到哪了", "track_shipment"),
                       _user("电饭煲呢", "inform"))
    assert follow_up_faq_key(tracker) is None
