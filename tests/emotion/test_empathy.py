"""Upset shoppers get an apology before the answer; calm ones do not."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.empathy import empathy_prefix, utter_empathy, with_empathy
from bot.emotion import score_message


def tracker_for(text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "track_shipment", "confidence": 0.9},
              "emotion": score_message(text).as_dict()}
    return Tracker("s1", {}, latest, [], False, None, {}, "action_listen")


def test_calm_shopper_gets_no_apology():
    assert empathy_prefix(tracker_for("运费多少钱")) is None
    assert with_empathy(tracker_for("运费多少钱"), "亲，满99包邮哦") == "亲，满99包邮哦"


def test_impatient_shopper_is_told_we_understand_the_wait():
    prefix = empathy_prefix(tracker_for("快递怎么还没到呀，急用"))
    assert prefix and "久等" in prefix


def test_angry_shopper_gets_a_stronger_apology_first():
    answer = with_empathy(tracker_for("什么破快递，垃圾！"), "亲，包裹在杭州转运中心。")
    assert answer.startswith("真的非常抱歉") and answer.endswith("亲，包裹在杭州转运中心。")


def test_safety_comes_first_whatever_the_label():
    assert "安全" in empathy_prefix(tracker_for("吹风机冒烟了"))


def test_utter_empathy_sends_a_separate_first_message_only_when_upset():
    dispatcher = CollectingDispatcher()
    assert utter_empathy(dispatcher, tracker_for("都三天了还没发货，你们到底怎么回事！！！"))
    assert len(dispatcher.messages) == 1 and "抱歉" in dispatcher.messages[0]["text"]
    quiet = CollectingDispatcher()
    assert not utter_empathy(quiet, tracker_for("我要退货"))
    assert quiet.messages == []


def test_missing_emotion_means_no_prefix():
    assert empathy_prefix(Tracker("s1", {}, {"text": "hi"}, [], False, None, {}, "action_listen")) is None
