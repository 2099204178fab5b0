"""Classes of messages behind the fourth development set's errors at the message level (issue 5),
each tested on both sides: what the new cue or rule must catch and what it must leave alone.
The sentences are new, not copies of data/dev/escalation_dev4.yml."""
from __future__ import annotations

import pytest

from bot.emotion import score_message
from bot.escalation import EscalationSettings

from .test_dev_categories import reason_for, user

HANDOFF = EscalationSettings().anger_threshold  # 0.45

# ------------------------------------------------------------ threat words that are no threat


@pytest.mark.parametrize("text", [
    "消费者投诉一般要准备什么材料？学校布置的作业",
    "平台介入一般要多久？我只是问问",
    "我们老师让写一篇关于12315的调研报告，想问问你们遇到过吗",
])
def test_questions_about_how_complaints_work_are_no_threat(text):
    reading = score_message(text)
    assert not reading.threat and reading.score < HANDOFF
    assert any(c.startswith("question:") for c in reading.cues)


@pytest.mark.parametrize("text", [
    "我要投诉，流程是怎样的",                       # the complaint comes first
    "退款半个月还没到，投诉流程是怎样的？",           # something else in the message complains
    "你们再不处理我就去12315，流程我都查好了",        # commits to it before the word
    "我老公就是律师，你们不给说法我们就走法律程序",   # 法律程序 is the threat, not a process question
])
def test_a_shopper_with_a_problem_asking_how_to_complain_still_counts(text):
    reading = score_message(text)
    assert not any(c.startswith("question:") for c in reading.cues)
    # 我要投诉 is a complaint word (negative), not a threat: it must still be counted.
    assert reading.threat or any(c.startswith("negative:") and "投诉" in c for c in reading.cues)


@pytest.mark.parametrize("text", ["这款相机长曝光怎么设置？", "曝光度调高一点会不会过曝", "拍夜景曝光时间设多少合适"])
def test_exposure_as_a_camera_term_is_no_threat(text):
    assert not score_message(text).threat


def test_exposing_the_shop_is_still_a_threat():
    assert score_message("再不退款我就把你们曝光到网上").threat


@pytest.mark.parametrize("text", [
    "差评里都说偏小，我要拍大一码吗",
    "翻了一下评价，好多人给了差评说有异味，是真的吗",
    "看到有买家给了差评，说充电慢，是个例吗",
])
def test_other_shoppers_reviews_read_as_information_are_no_threat(text):
    reading = score_message(text)
    assert not reading.threat and reading.score < HANDOFF


@pytest.mark.parametrize("text", ["看到这种质量我就给差评", "别人都给差评了，我也要给差评", "大家都说质量差，不退我就差评"])
def test_the_shopper_threatening_a_review_still_counts(text):
    assert score_message(text).threat


@pytest.mark.parametrize("text", [
    "我姐在法院工作，她说你们家的被子很暖和",
    "派出所附近能送货上门吗",
    "我家就在工商局对面，能自提吗",
])
def test_an_institution_as_a_workplace_or_a_landmark_is_no_threat(text):
    reading = score_message(text)
    assert not reading.threat and reading.score == 0
    assert any(c.startswith("place:") for c in reading.cues)


@pytest.mark.parametrize("text", ["再不处理我就去派出所报案", "我已经在派出所做了笔录，你们等着", "法院见"])
def test_going_to_the_institution_is_still_a_threat(text):
    assert score_message(text).threat


@pytest.mark.parametrize("text", ["宝宝推车到了，肿么安装", "孩子的红色书包收到了", "儿童餐椅收到了，肿么调高度呀"])
def test_slang_and_colours_near_a_child_are_no_symptom(text):
    assert not score_message(text).safety


@pytest.mark.parametrize("text", ["宝宝屁股红了一片", "孩子用了这个面霜脸都肿了"])
def test_a_child_s_symptom_in_the_same_clause_is_still_safety(text):
    assert score_message(text).safety


@pytest.mark.parametrize("text", ["我已经联系客服了，帮我看看物流", "这件穿着很舒服了，再买一件", "校服了解一下尺码"])
def test_fu_le_inside_ordinary_words_is_no_exasperation(text):
    assert score_message(text).score == 0


# ------------------------------------------------------------ fire with 了/咗 between verb and object


@pytest.mark.parametrize("text", ["電熱毯著咗火，燒到床單", "台灯起了火，吓死我了", "插线板用着用着冒了黑烟", "取暖器着了火，烧到沙发了"])
def test_fire_and_smoke_with_a_particle_in_between_are_safety(text):
    assert score_message(text).safety
    assert reason_for(user(text, "report_damaged")) == "safety"


@pytest.mark.parametrize("text", ["燃气灶打不着火怎么办", "烤肉冒了烟正常吗", "这个取暖器会不会着了火都不断电"])
def test_ignition_questions_and_cooking_are_not_safety(text):
    assert not score_message(text).safety


# ------------------------------------------------------------ anger without swear words
# Repeated contact (0.32) alone is impatience; with a second repeat or wait, an accusation,
# sarcasm or resignation it reaches the handoff threshold.


@pytest.mark.parametrize("text", [
    "第二次问了哈，什么时候发货呀",
    "我问了两次了，还没回复，麻烦看下",
    "问了三遍，终于搞懂了，谢谢客服",
    "第二次问了，什么时候发货呀？急用",                       # with mild urging (0.12)
    "第三次联系了，麻烦快点处理一下！！",
])
def test_one_repeated_contact_alone_is_impatience(text):
    reading = score_message(text)
    assert 0 < reading.score < HANDOFF
    assert any(c.startswith("impatience:") for c in reading.cues)


@pytest.mark.parametrize("text", [
    "这是我第四次找客服了，洗衣机到底什么时候来修？",      # repeat + wait
    "催了五天了，每次都让我再等等",                         # two repeats
    "我問了一個禮拜了，每次都說在處理",                     # Traditional
    "吸尘器的事我都说了三遍了，结果呢？",                   # repeat + accusation
    "我也累了，退个款要跑三趟，说了多少次了",               # resignation + repeat
])
def test_repeated_contact_with_a_second_signal_is_anger(text):
    assert score_message(text).score >= HANDOFF


@pytest.mark.parametrize("text", [
    "快递怎么还没到呀，急用",
    "都三天了还没发货吗",
    "物流三天没动了，帮忙看看呗",
    "说好48小时内发货，今天第二天了还没动静，帮我看看",   # a promise not yet broken, asked politely
    "说好的今天到，结果又没送",                             # a broken promise alone is frustration
    "我累了，明天再来问",
])
def test_mild_impatience_and_single_signals_stay_below_the_threshold(text):
    assert score_message(text).score < HANDOFF


@pytest.mark.parametrize("text", [
    "第三次购买了，一如既往的好",
    "回购第三次啦",
    "说好的包邮吧？",
    "客服说了两天发货，那我周末能收到吗",
    "每次都让我很满意，这次也是",
    "处理结果呢？什么时候能出来",
    "你们家客服很有责任心，谢谢",
    "不好意思，再问一下",
    "一天不到就收到了，好快",
    "行吧，那就明天发",
    "好家伙，这么快就到了",
])
def test_purchases_questions_and_praise_with_the_same_words_are_calm(text):
    reading = score_message(text)
    assert reading.score < 0.2 and not reading.threat


@pytest.mark.parametrize("text", [
    "你们有没有一点职业道德？",
    "能不能有点责任心，寄来的鞋一只大一只小",
    "这么烂的做工还好意思标价五百",
    "到底有没有人在管啊，订单一个星期没动",
    "你们是不是觉得我好欺负",
])
def test_accusations_without_swear_words_are_anger(text):
    assert score_message(text).score >= HANDOFF


@pytest.mark.parametrize("text", [
    "行，你们厉害，退款拖了半个月还没到",
    "好家伙，说是全新的，打开一看是翻新机",
    "真是醉了，空调装好第二天就不制冷了",
    "我也是醉了，又发错颜色",
])
def test_sarcastic_concession_and_exasperation_about_a_failure_are_anger(text):
    reading = score_message(text)
    assert reading.score >= HANDOFF and reading.sarcasm


@pytest.mark.parametrize("text", [
    "有冇搞錯呀，等咗成個禮拜都未到",
    "搞乜鬼，部电视一开就黑屏",
    "又話聽日送，等到而家都冇人嚟，你哋有冇人理㗎",
    "真的好扯，买的奶粉快过期了",
])
def test_cantonese_and_colloquial_anger(text):
    assert score_message(text).score >= HANDOFF


def test_resignation_alone_stays_below_but_shaming_hands_off():
    assert score_message("不想多说了，退钱").score < HANDOFF
    assert score_message("这种做工也好意思卖两百").score >= HANDOFF


# ------------------------------------------------------------ asking the platform to step in


@pytest.mark.parametrize("text", [
    "再不给我处理，我就申请小二介入",
    "已经找官方介入了，你们等着吧",
    "少发了一件还不承认，我要让平台介入",
    "我要去消委會投訴你哋",
])
def test_platform_intervention_and_the_consumer_council_are_threats(text):
    assert score_message(text).threat
    assert reason_for(user(text, "complain")) == "threat"


@pytest.mark.parametrize("text", ["平台介入一般要多久？我只是问问", "我朋友是律师，推荐我来买的", "申请平台介入的流程是怎样的？先了解一下"])
def test_mentions_of_intervention_or_lawyers_without_a_complaint_are_no_threat(text):
    assert not score_message(text).threat
