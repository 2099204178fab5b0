"""Stock questions (faq/stock) are answered from the shop database when the product is known."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from tests.actions.conftest import texts

DOMAIN = {"responses": {"utter_faq/stock": [{"text": "告诉我商品名和想要的颜色、尺码"}],
                        "utter_ask_rephrase": [{"text": "能换个说法吗"}]}}


def _user(text: str, intent: str = "faq", key: str | None = "faq/stock", entities=None) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    if key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": key, "confidence": 0.9}}}
    return {"event": "user", "text": text, "parse_data": parse}


def _tracker(*users: dict, slots: dict | None = None) -> Tracker:
    events = []
    for user in users:
        events += [user, {"event": "action", "name": "action_answer_faq"}, {"event": "action", "name": "action_listen"}]
    return Tracker.from_dict({"sender_id": "s", "slots": dict(slots or {}), "latest_message": users[-1]["parse_data"],
                              "events": events[:-2], "paused": False, "followup_action": None, "active_loop": {},
                              "latest_action_name": "action_listen"})


async def _answer(tracker: Tracker) -> tuple[str, list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerFaq().run(dispatcher, tracker, DOMAIN)
    return texts(dispatcher) + "".join(m.get("response") or "" for m in dispatcher.messages), events


async def test_a_size_in_stock_is_confirmed(shop_db):
    said, events = await _answer(_tracker(_user("卫衣L码还有吗")))
    assert "卫衣" in said and "L" in said and "有货" in said and "缺货" not in said
    assert {"event": "slot", "name": "product", "value": "卫衣", "timestamp": None} in events


async def test_a_sold_out_size_names_what_is_in_stock(shop_db):
    said, _ = await _answer(_tracker(_user("帽衫XL码有货吗")))
    assert "XL" in said and "缺货" in said and "到货提醒" in said
    assert "M" in said and "L" in said  # the sizes the shopper can have instead


async def test_l_is_not_read_inside_xl(shop_db):
    said, _ = await _answer(_tracker(_user("卫衣灰色XL还有吗")))
    assert "灰色 XL暂时缺货" in said and "灰色 L有货" not in said


async def test_the_whole_product_lists_only_what_is_sold_out(shop_db):
    said, _ = await _answer(_tracker(_user("卫衣还有货吗")))
    assert "现在有货" in said and "灰色 XL" in said
    said, _ = await _answer(_tracker(_user("空气炸锅还有货吗")))
    assert "空气炸锅现在有货" in said and "缺货" not in said


async def test_a_follow_up_uses_the_product_named_before(shop_db):
    said, _ = await _answer(_tracker(_user("卫衣M码有货吗"), _user("那XL呢", intent="inform", key=None),
                                     slots={"product": "卫衣"}))
    assert "XL" in said and "缺货" in said


async def test_an_unknown_product_gets_the_template_asking_which(shop_db):
    said, events = await _answer(_tracker(_user("那个还有货吗")))
    assert said == "utter_faq/stock" and events == []  # the template response, filled in by Rasa
