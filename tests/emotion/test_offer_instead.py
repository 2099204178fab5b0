"""Two different calm shop questions the bot could not place: the bot offers a person and lets the
shopper choose, instead of handing off; rephrasings, gibberish, chit-chat and upset shoppers still
go to a person (generalised from development set 7)."""
from __future__ import annotations

from tests.emotion.test_dev_categories import bot, reason_for, user
from tests.emotion.test_escalation_policy import conversation, domain, policy, predicted, said  # noqa: F401
from tests.emotion.test_loops_and_corrections import _misread_twice


def test_two_different_calm_questions_get_an_offer_not_a_handoff():
    assert reason_for(*_misread_twice("婚礼用的喜糖盒能定制印名字吗", "可以帮忙放一张手写的卡片吗")) is None
    assert reason_for(*_misread_twice("这个猫粮幼猫能吃吗", "一袋大概够喂多久呢")) is None


def test_the_same_question_again_still_goes_to_a_person():
    assert reason_for(*_misread_twice("喜糖盒能定制印名字吗", "就是盒子上印新人名字 能定制吗")) == "repeated_misunderstanding"
    assert reason_for(*_misread_twice("这个猫粮幼猫能吃吗", "我问的是小猫能不能吃")) == "repeated_misunderstanding"


def test_gibberish_chit_chat_and_vague_messages_still_go_to_a_person():
    twice = [user("今天天气好不好", "out_of_scope"), bot("utter_out_of_scope"), bot("action_listen"),
             user("那你会不会讲笑话呀", "out_of_scope")]
    assert reason_for(*twice) == "repeated_misunderstanding"
    assert reason_for(*_misread_twice("嗯那个啥来着", "就那个嘛")) == "repeated_misunderstanding"


def test_an_upset_shopper_is_not_offered_but_handed_over():
    assert reason_for(*_misread_twice("这个猫粮幼猫能吃吗", "问个问题都答不上来吗？？？")) is not None


def test_after_an_offer_another_miss_goes_to_a_person():
    events = [*_misread_twice("这个猫粮幼猫能吃吗", "一袋大概够喂多久呢"), bot("utter_offer_human"), bot("action_listen"),
              user("那有没有试吃装卖呢", "nlu_fallback")]
    assert reason_for(*events) == "repeated_misunderstanding"


def test_a_problem_the_shopper_sorted_out_is_no_second_misunderstanding():
    assert reason_for(*_misread_twice("推车怎么折叠 弄半天了", "哦找到那个按钮了 好了好了")) is None


def test_the_policy_offers_a_person_where_the_rules_would_hand_off(policy, domain):  # noqa: F811
    tracker = conversation(domain, said("婚礼用的喜糖盒能定制印名字吗", "nlu_fallback", 0.2), "utter_ask_rephrase",
                           said("可以帮忙放一张手写的卡片吗", "nlu_fallback", 0.2))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "utter_offer_human"
    assert prediction.diagnostic_data["escalation"] == {"instead": "calm, another question"}
    accepted = conversation(domain, said("婚礼用的喜糖盒能定制印名字吗", "nlu_fallback", 0.2), "utter_ask_rephrase",
                            said("可以帮忙放一张手写的卡片吗", "nlu_fallback", 0.2), "utter_offer_human",
                            said("好的", "affirm"))
    assert predicted(policy, accepted, domain)[0] == "action_handoff"
