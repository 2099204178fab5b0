"""Conversation rules generalised from development set 6: a calm elliptical follow-up after a
misunderstanding gets one more try, and an acknowledgement ends a loop and a misunderstanding."""
from __future__ import annotations

from tests.emotion.test_dev_categories import bot, reason_for, user
from tests.emotion.test_escalation_policy import conversation, domain, make_policy, policy, predicted, said  # noqa: F401
from tests.emotion.test_loops_and_corrections import _misread_twice


def test_a_calm_follow_up_about_another_variant_is_not_a_second_misunderstanding():
    assert reason_for(*_misread_twice("这款保温杯还有货木有", "蓝色的呢？")) is None
    assert reason_for(*_misread_twice("婴儿推车M码适合几岁", "那L码呢")) is None
    assert reason_for(*_misread_twice("这个加湿器声音大不大 我是说晚上吵不吵", "那带香薰的那款呢")) is None


def test_a_third_misunderstanding_in_a_row_still_goes_to_a_person():
    events = [*_misread_twice("这款保温杯还有货木有", "蓝色的呢？"), bot("utter_ask_rephrase"), bot("action_listen"),
              user("算了 你说的我都看不懂", "nlu_fallback")]
    assert reason_for(*events) is not None
    events = [*_misread_twice("这款保温杯还有货木有", "蓝色的呢？"), bot("utter_ask_rephrase"), bot("action_listen"),
              user("就是问保温杯 现在能不能买到", "nlu_fallback")]
    assert reason_for(*events) == "repeated_misunderstanding"


def test_an_upset_or_personal_follow_up_still_counts():
    assert reason_for(*_misread_twice("那个啥来着", "那我的退款呢")) == "repeated_misunderstanding"
    assert reason_for(*_misread_twice("这个怎么弄", "那说明书呢？？？")) == "repeated_misunderstanding"


def test_an_acknowledgement_with_what_the_shopper_does_next_ends_a_misunderstanding():
    assert reason_for(*_misread_twice("退款到哪了", "哦已经退到余额了，我去看看")) is None
    assert reason_for(*_misread_twice("退款到哪了", "好吧 那我明天再来问")) is None
    assert reason_for(*_misread_twice("退款到哪了", "好吧，还是没明白")) == "repeated_misunderstanding"


def test_a_third_request_that_takes_the_answer_is_not_a_loop():
    asks = [user("什么时候发货", "urge_shipment"), bot("utter_ask_order_id"), bot("action_listen"),
            user("今天能发吗 周末要用", "urge_shipment"), bot("utter_ask_order_id"), bot("action_listen")]
    assert reason_for(*asks, user("好吧 那尽量早点发哈", "urge_shipment")) is None
    assert reason_for(*asks, user("到底什么时候能发", "urge_shipment")) == "loop"


def test_the_policy_asks_again_instead_of_the_rules_handing_a_calm_follow_up_over(policy, domain):  # noqa: F811
    tracker = conversation(domain, said("这款保温杯还有货木有", "nlu_fallback", 0.2), "utter_ask_rephrase",
                           said("蓝色的呢？", "nlu_fallback", 0.2))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "utter_ask_rephrase"
    assert prediction.diagnostic_data["escalation"] == {"instead": "calm follow-up"}
    tracker = conversation(domain, said("这款保温杯还有货木有", "nlu_fallback", 0.2), "utter_ask_rephrase",
                           said("听不懂人话是吧", "nlu_fallback", 0.2))
    assert predicted(policy, tracker, domain)[0] == "action_handoff"
    calm = conversation(domain, said("这款保温杯还有货木有", "nlu_fallback", 0.2), "utter_ask_rephrase",
                        said("蓝色的呢？", "nlu_fallback", 0.2))
    assert predicted(make_policy(fallbacks_in_a_row=0), calm, domain)[0] is None  # left to the rules
