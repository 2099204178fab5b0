"""Problems the shopper denies or only asks about are not cases; the same answer twice then a
third ask is a loop (issue 5; found on data/dev/escalation_dev2.yml)."""
from __future__ import annotations

import pytest

from bot.escalation_cues import text_signals

from .test_dev_categories import bot, reason_for, user


@pytest.mark.parametrize("text", ["刚才付款卡了一下我又点了一次，结果两边都扣钱了", "扣了我两次钱！"])
def test_double_charges_in_other_words_are_seen(text):
    assert text_signals(text).double_charge


@pytest.mark.parametrize("text", ["没有被扣两次钱，是我看错了，不好意思哈", "如果被扣了两次钱怎么办"])
def test_denied_or_hypothetical_double_charge_is_not_one(text):
    assert text_signals(text).double_charge is None


def test_declined_compensation_is_not_a_compensation_demand():
    assert text_signals("不用赔偿也不用退，就想问问这个划痕能不能自己处理掉").compensation is None
    assert text_signals("东西坏了要求赔偿").compensation


def test_cannot_verify_when_the_shopper_has_no_order_number_or_phone_tail():
    assert text_signals("手机号早换了，以前的尾号真想不起来，订单号也找不到了").cannot_verify


def test_refund_still_processing_after_the_return_was_signed_for_is_overdue():
    assert text_signals("退货你们已经签收一周了，退款还是显示处理中").refund_overdue


def test_asking_about_a_lost_parcel_is_not_reporting_one():
    assert reason_for(user("万一快递丢了你们会补发吗", "report_lost_package")) is None
    assert reason_for(user("快递丢了你们会补发吗", "report_lost_package")) == "lost_parcel"


def test_same_answer_twice_then_asked_again_is_a_loop():
    assert reason_for(user("可以开票不", "faq", faq_key="faq/invoice"), bot("utter_faq"), bot("action_listen"),
                      user("开票要怎么弄啊", "faq", faq_key="faq/invoice"), bot("utter_faq"), bot("action_listen"),
                      user("开票在哪里弄，说一下开票步骤", "check_order_status")) == "loop"


def test_a_follow_up_after_an_acknowledgement_is_not_a_loop():
    assert reason_for(user("能发顺丰吗", "faq", faq_key="faq/shipping_carrier"), bot("utter_faq"), bot("action_listen"),
                      user("顺丰要补多少差价", "faq", faq_key="faq/shipping_carrier"), bot("utter_faq"),
                      bot("action_listen"), user("行 那帮我备注顺丰吧", "inform")) is None


def test_different_answers_on_one_topic_are_not_a_loop():
    assert reason_for(user("运费多少", "faq", faq_key="faq/shipping_fee"), bot("utter_faq"), bot("action_listen"),
                      user("退货运费谁出", "faq", faq_key="faq/return_shipping_fee"), bot("utter_faq"),
                      bot("action_listen"), user("运费险怎么用", "ask_product_usage")) is None


@pytest.mark.parametrize("text", ["你是机器人吧听不懂，我说合并发货", "你的回答對我一點幫助都沒有",
                                  "你已经回了三遍一样的话了", "算了，跟你说不明白"])
def test_more_ways_of_saying_the_bot_does_not_help(text):
    assert text_signals(text).bot_not_helping


@pytest.mark.parametrize("text", ["这个面膜一点用都没有", "说明书我看不懂", "不是说你听不懂哈"])
def test_product_complaints_and_taken_back_remarks_are_not_about_the_bot(text):
    assert text_signals(text).bot_not_helping is None


def test_a_parcel_a_day_or_two_late_is_tracked_not_handed_off():
    assert reason_for(user("包裹卡在轉運中心兩天了，能幫忙問問嗎", "report_lost_package")) is None
    assert reason_for(user("物流十二天没更新了，是不是丢了", "report_lost_package")) == "lost_parcel"
    assert reason_for(user("两天前显示签收了，我根本没拿到", "report_lost_package")) == "lost_parcel"
