"""Conversation-level signals that dev set 4 showed missing, each with its near misses.

The sentences are new (not the dev set's): they test the signal, not the wording.
"""
from __future__ import annotations

import pytest

from bot.escalation_cues import text_signals
from tests.emotion.test_dev_categories import bot, reason_for, user
from tests.emotion.test_loops_and_corrections import conversation


@pytest.mark.parametrize("text", [
    "两件事：1、收货地址要改成公司 2、上次买的保温杯漏水",          # numbered: a request and a problem
    "第一，帮我取消昨天那单；第二，耳机充不进电",
    "一个订单要取消，另一个要开发票，还有充电线没收到",           # three things, one a problem
    "退掉那条裙子，改一下地址，还有优惠券也没返",
])
def test_a_problem_among_several_things_to_settle_is_several_problems(text: str) -> None:
    assert text_signals(text).multi_issue
    assert reason_for(user(text, "request_return")) == "multi_issue"


@pytest.mark.parametrize("text", [
    "想取消订单，顺便开个发票",                      # two routine requests
    "1.能开发票吗 2.包邮吗 3.发什么快递",           # numbered questions, no problem
    "我想退货，另外地址要改一下",
    "运费多少？几天能到？发什么快递？",
])
def test_routine_requests_or_questions_together_are_not_several_problems(text: str) -> None:
    assert not text_signals(text).multi_issue


@pytest.mark.parametrize("text, field", [
    ("你说的这些跟我问的有啥关系", "bot_not_helping"),
    ("聊了十分钟一句有用的也没有", "bot_not_helping"),
    ("完全是鸡同鸭讲", "bot_not_helping"),
    ("又验证不过，我就是用这个号下的单", "cannot_verify"),
    ("我记不清下单时留的是哪个号了", "cannot_verify"),
    ("帮我转个rg", "human_request"),
    ("找kf", "human_request"),
    ("专柜鉴定说是高仿", "dispute"),
    ("收到的竟然是假货", "dispute"),
])
def test_new_wordings_fire(text: str, field: str) -> None:
    assert getattr(text_signals(text), field)


@pytest.mark.parametrize("text, field", [
    ("你们回复挺快的", "bot_not_helping"),
    ("验证码收到了，谢谢", "cannot_verify"),
    ("rgb灯带怎么换颜色", "human_request"),
    ("这个是不是正品，会不会是假货", "dispute"),
    ("收到的是正品吗", "dispute"),
])
def test_near_misses_do_not_fire(text: str, field: str) -> None:
    assert not getattr(text_signals(text), field)


def test_stopped_working_and_who_pays_the_repair_is_a_case_for_a_person() -> None:
    text = "洗衣机装好第三天就没法启动了，你们派师傅来修，费用谁承担得先说好"
    assert reason_for(user(text, "report_damaged")) == "damage_compensation"


def test_who_pays_return_shipping_after_a_fault_is_the_faq() -> None:
    signals = text_signals("杯子坏了，退货运费谁出")
    assert signals.damage and not signals.compensation


def test_a_promised_refund_date_that_passed_is_overdue() -> None:
    text = "上周客服答应周五之前退款肯定到账，今天周一了还是没有"
    assert text_signals(text).refund_overdue
    assert not text_signals("说好三天之内能退款到账吗").refund_overdue


def test_the_same_question_with_one_misunderstood_repeat_is_a_loop() -> None:
    events = conversation(("订单 6201938475610293 几号发货", "faq", "faq/ship_time"),
                          ("这个订单到底哪天能发出", "nlu_fallback"),
                          ("6201938475610293 发货日期", "faq", "faq/ship_time"))
    assert reason_for(*events) == "loop"


def test_a_misunderstood_message_about_something_else_does_not_make_a_loop() -> None:
    events = conversation(("几天发货呀", "faq", "faq/ship_time"), ("嗯嗯那个啥", "nlu_fallback"),
                          ("下单后多久发出", "faq", "faq/ship_time"))
    assert reason_for(*events) != "loop"


def test_a_refund_asked_three_times_is_a_loop_when_the_nlu_reads_one_as_tracking() -> None:
    events = conversation(("退款啥时候到账", "check_refund_status"), ("我的退款到底什么时候到", "check_refund_status"),
                          ("我就问我的钱几号能退回来", "track_shipment"), answer="action_check_refund_status")
    assert reason_for(*events) == "loop"


def test_refund_then_parcel_questions_are_not_a_loop() -> None:
    events = conversation(("退款啥时候到账", "check_refund_status"), ("我的退款到底什么时候到", "check_refund_status"),
                          ("另外我另一单的快递到哪了", "track_shipment"), answer="action_check_refund_status")
    assert reason_for(*events) != "loop"


def test_praise_with_exclamation_marks_is_not_a_complaint() -> None:
    assert reason_for(user("客服小姐姐太棒了！！五星好评", "complain")) is None
    assert reason_for(user("太棒了！！又发错货了", "complain")) is not None


def test_three_calm_questions_about_refunds_are_not_a_loop() -> None:
    events = conversation(("退款多久到账", "faq", "faq/refund_time"), ("是原路退回吗", "faq", "faq/refund_time"),
                          ("那退款会把运费也退了吗", "faq", "faq/return_shipping_fee"))
    assert reason_for(*events) is None


@pytest.mark.parametrize("text", ["这个投影仪的梯形校正在哪里设置？", "请问夜灯模式怎么关"])
def test_a_plain_question_read_as_complain_is_a_question(text: str) -> None:
    assert reason_for(user(text, "complain")) is None


@pytest.mark.parametrize("text", ["我要投诉你们", "你们服务太差了", "为什么又发错货了？"])
def test_a_complaint_read_as_complain_still_goes_to_a_person(text: str) -> None:
    assert reason_for(user(text, "complain")) is not None


def test_praise_words_withdraw_a_complain_intent() -> None:
    assert reason_for(user("这家店的客服必须夸一下！！", "complain")) is None
