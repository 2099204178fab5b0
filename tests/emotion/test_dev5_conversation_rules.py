"""Conversation-level signals that dev set 5 showed missing, each with its near misses.

The sentences are new (not the dev set's): they test the signal, not the wording.
"""
from __future__ import annotations

import pytest

from bot.escalation_cues import text_signals
from tests.emotion.test_dev_categories import reason_for, user
from tests.emotion.test_loops_and_corrections import conversation


@pytest.mark.parametrize("text, intent", [
    ("请问人工客服一般几点下班", "request_human"),          # the agents' hours
    ("你们客服的在线时间是几点到几点", "out_of_scope"),
    ("下次要是想找人工客服，从哪里进", "request_human"),      # some other time
    ("你是真人吗哈哈 回得好快", "bot_challenge"),             # who is typing
    ("对面是活人还是机器人", "bot_challenge"),
    ("没想找人工哈，你帮我看下物流就行", "request_human"),      # negated
])
def test_questions_about_agents_are_not_requests_for_one(text: str, intent: str) -> None:
    assert reason_for(user(text, intent)) is None


@pytest.mark.parametrize("text", ["你是真人吗？我要找真人", "人工客服在吗，转人工", "帮我转人工，几点上班都行"])
def test_a_request_next_to_a_question_about_agents_is_still_a_request(text: str) -> None:
    assert reason_for(user(text, "request_human")) == "explicit_request"


def test_problems_asked_about_before_they_happen_are_not_several_problems() -> None:
    signals = text_signals("万一到货发现发错了颜色怎么办？还没收到，先问清楚")
    assert not signals.multi_issue and "wrong_item" not in signals.problem_groups
    assert text_signals("发错了颜色，而且盒子也压坏了").multi_issue


def test_one_order_and_the_other_listed_as_two_problems() -> None:
    assert text_signals("下了两单，一单到现在没发货，另一单少发了个配件").multi_issue
    assert not text_signals("买了两件，一件送我妈，一件自己穿").multi_issue


def test_a_stuck_parcel_with_no_long_wait_is_tracked_not_lost() -> None:
    assert reason_for(user("物流怎么一直停在转运中心，好慢", "report_lost_package")) is None
    assert reason_for(user("物流停在转运中心十天了，是不是丢了", "report_lost_package")) == "lost_parcel"


@pytest.mark.parametrize("text", [
    "你在说什么啊？我问的是发票",
    "拜托你能听懂人话吗",
    "别再给我发说明书了，我要的是解决办法",
    "跟机器人沟通真费劲",
    "你发的那个链接里根本没有这个型号",
    "这回复对我一点帮助都没有",
    "你到底懂不懂我在问什么",
])
def test_new_bot_not_helping_wordings(text: str) -> None:
    assert text_signals(text).bot_not_helping


@pytest.mark.parametrize("text", [
    "你说的是哪一款呀", "说明书里没有写保修期吗", "这个面膜一点用都没有", "到底什么时候发货",
])
def test_bot_not_helping_near_misses(text: str) -> None:
    assert not text_signals(text).bot_not_helping


@pytest.mark.parametrize("text", [
    "洗衣机门玻璃碎了，物流公司说是我签收后弄的不予赔偿",          # refused, shopper disagrees
    "快递公司不认，你们让我自己去找快递公司，这到底该谁负责",
    "明明就是质量问题，售后非说是人为损坏",
    "退款只退了一部分，剩下的说扣了手续费",
    "补发过来的还是坏的，屏幕一样有坏点",
    "换的那件新的也没寄，退款也没到，两头落空",
    "客服答应两天内补发，到现在都十天了",
    "账号好像被盗了，多了个我没下过的订单",
])
def test_cases_the_actions_cannot_settle_are_disputes(text: str) -> None:
    assert text_signals(text).dispute


@pytest.mark.parametrize("text", [
    "退款只退了一部分吗？还是会分两次退", "这个是不是我下的单啊，忘记了", "安装的话谁负责",
    "会不会又发错呀，上次买别家发错过", "客服说七天无理由可以退对吧",
])
def test_dispute_near_misses(text: str) -> None:
    assert not text_signals(text).dispute


def test_several_failed_verifications_cannot_be_settled() -> None:
    assert text_signals("试了好几次都提示手机尾号不对，我一直用的这个号").cannot_verify
    assert not text_signals("手机尾号是多少来着，我查一下").cannot_verify


def test_the_same_question_three_times_read_as_three_requests_is_a_loop() -> None:
    events = conversation(("能开电子发票发我邮箱吗", "faq", "faq/invoice"),
                          ("发票可以发邮件给我不", "check_order_status"),
                          ("电子发票到底能不能发邮箱", "faq", "faq/shipping_fee"))
    assert reason_for(*events) == "loop"


def test_saying_what_was_asked_on_the_third_message_is_a_loop() -> None:
    events = conversation(("这款面霜孕妇能用吗", "ask_product_usage"), ("怀孕了能不能涂", "nlu_fallback"),
                          ("我问的是孕期可不可以用", "ask_product_usage"))
    assert reason_for(*events) == "loop"


def test_three_questions_on_different_things_or_an_answer_taken_are_not_a_loop() -> None:
    events = conversation(("空气炸锅怎么预热", "ask_product_usage"), ("保修多久", "faq", "faq/warranty"),
                          ("发票在哪里开", "faq", "faq/invoice"))
    assert reason_for(*events) is None
    events = conversation(("电子发票怎么开", "faq", "faq/invoice"), ("好的 知道了", "affirm"),
                          ("发票抬头写公司的可以吗", "faq", "faq/invoice"))
    assert reason_for(*events) is None


def test_an_unsure_complain_intent_needs_words_that_back_it() -> None:
    assert reason_for(user("想问下你们包装用的是什么材料", "complain", confidence=0.4)) is None
    assert reason_for(user("包装又压坏了，每次都这样", "complain", confidence=0.4)) is not None
    assert reason_for(user("这次的包装我有意见", "complain", confidence=0.4)) is None
    assert reason_for(user("这次的包装我有意见", "complain", confidence=0.9)) == "complaint"


def test_an_unsure_request_for_a_person_needs_a_person_named() -> None:
    assert reason_for(user("这个能再便宜点不", "request_human", confidence=0.4)) is None
    assert reason_for(user("能不能让你们的人跟我说", "request_human", confidence=0.4)) == "explicit_request"


def test_an_unsure_lost_parcel_intent_needs_a_loss() -> None:
    assert reason_for(user("快递是哪家的", "report_lost_package", confidence=0.4)) is None
    assert reason_for(user("快递好像丢了", "report_lost_package", confidence=0.4)) == "lost_parcel"


def test_a_slowness_simile_is_sarcasm_but_alone_not_anger() -> None:
    from bot.emotion import score_message
    alone = score_message("物流比乌龟还慢").as_dict()
    assert any(c.startswith("sarcasm:") for c in alone["cues"]) and alone["score"] < 0.45
    assert reason_for(user("真是开眼界了 回个消息比蜗牛还慢", "complain", confidence=0.4)) is not None
