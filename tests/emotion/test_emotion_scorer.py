"""The emotion scorer: how upset a shopper is, from the words they type.

Development examples written for this scorer (not the held-out escalation set
in data/test/). The handoff threshold is 0.6 (EscalationSettings.anger_threshold).
"""
from __future__ import annotations

import time

import pytest

from bot.emotion import ANGRY_AT, EmotionScorer, score_message

HANDOFF = ANGRY_AT

CALM = [
    "你好，请问有优惠券吗",
    "我要退货，退款多久到账",
    "帮我查下订单3829104857263541发货了吗",
    "羽绒服M码和L码差多少",
    "这个空气炸锅第一次怎么用",
    "退到工商银行卡大概几天",
    "在吗",
    "好的，谢谢",
    "收到了，质量真好，给你们五星好评",
    "客服很耐心，非常满意👍",
    "我不生气，就是想问问能不能换个颜色",
    "没有不满意，东西挺好的",
    "不是投诉哈，想问下发票怎么开",
    "放心吧不会给差评的",
    "不着急，慢慢来",
    "破壁机怎么清洗",
    "电热水壶能直接倒滚水进去吗",
    "不满99元要付运费吗",
    "你好你好，在线吗",
    "麻烦帮我查一下物流，谢谢",
    "订单号3158291047563215，帮我看看",
]

MILD = [  # impatient, answered by the bot with empathy
    "快递怎么还没到呀，急用",
    "能快点吗",
    "能快点发货吗？",
    "什么时候能到啊，有点着急",
    "还没收到货呢",
    "在吗？？",
    "麻烦尽快发货，谢谢",
]

ANGRY = [  # must reach the handoff threshold
    "什么破快递，垃圾！",
    "你们就是骗子",
    "tmd到底什么时候发货",
    "垃圾客服，太气人了",
    "真是气死我了！！！",
    "气死我了😡😡",
    "你们这是坑人吧，黑店",
    "都一个星期了还没发货，你们到底怎么回事！！！简直离谱",
    "效率真高啊，半个月了还没发货",
    "受够了，太过分了",
    "滚，我不要机器人",
    "你给我滚！",
    "呵呵，你们可真行，东西坏了没人管",
]


@pytest.mark.parametrize("text", CALM)
def test_calm_messages_are_calm_with_a_low_score(text):
    reading = score_message(text)
    assert reading.label == "calm", (text, reading)
    assert reading.score < 0.15


@pytest.mark.parametrize("text", MILD)
def test_mild_impatience_is_impatient_and_far_below_the_handoff_threshold(text):
    reading = score_message(text)
    assert reading.label == "impatient", (text, reading)
    assert 0 < reading.score <= 0.3, (text, reading)


@pytest.mark.parametrize("text", ANGRY)
def test_anger_reaches_the_handoff_threshold(text):
    reading = score_message(text)
    assert reading.label == "angry", (text, reading)
    assert reading.score >= HANDOFF


def test_intensity_grows_with_intensifiers_punctuation_and_repetition():
    plain = score_message("气死我了").score
    intensified = score_message("真是气死我了").score
    shouted = score_message("真是气死我了！！！").score
    assert plain < intensified < shouted


def test_repeated_urging_is_impatience_not_anger():
    reading = score_message("快点快点快点")
    assert "repeat:快点" in reading.cues
    assert reading.score < HANDOFF


@pytest.mark.parametrize("text,cue", [
    ("再不处理我就打12315", "threat:12315"),
    ("我要去消协投诉你们", "threat:消协"),
    ("不给退我就给差评", "threat:给差评"),
    ("我已经咨询律师了", "threat:律师"),
    ("这事我要曝光到微博", "threat:曝光"),
    ("不解决我直接报警", "threat:报警"),
    ("我会投诉到平台的", "threat:投诉到平台"),
    ("市场监管局会管你们的", "threat:市场监管"),
])
def test_threats_to_escalate_are_flagged(text, cue):
    reading = score_message(text)
    assert reading.threat, (text, reading)
    assert cue in reading.cues


@pytest.mark.parametrize("text", ["退款会退到工商银行卡吗", "我不会给差评的，放心", "订单3152315123153150"])
def test_look_alikes_are_not_threats(text):
    assert not score_message(text).threat


@pytest.mark.parametrize("text", [
    "电热水壶用了两天底座冒烟了",
    "吹风机插上就漏电，手被电到了",
    "宝宝吃了辅食过敏了，全身起疹子",
    "孩子误食了干燥剂怎么办",
    "充电宝突然炸了",
    "卷发棒把我烫伤了",
])
def test_safety_problems_are_flagged(text):
    assert score_message(text).safety, text


@pytest.mark.parametrize("text", ["这个面霜孕妇用会过敏吗", "吹风机会不会漏电啊", "空气炸锅用的时候会冒烟吗"])
def test_questions_about_a_risk_are_not_safety_reports(text):
    assert not score_message(text).safety, text


@pytest.mark.parametrize("text", [
    "效率真高啊，一个星期了还没发货",
    "速度真快，半个月才到",
    "谢谢你们哦，等了半个月才到，东西还是坏的",
    "呵呵",
])
def test_sarcasm_is_recognised(text):
    reading = score_message(text)
    assert reading.sarcasm, (text, reading)
    assert reading.label in ("frustrated", "angry")


def test_the_same_praise_without_a_complaint_is_praise():
    reading = score_message("速度真快，昨天下单今天就到了，谢谢你们")
    assert not reading.sarcasm
    assert reading.label == "calm"


@pytest.mark.parametrize("text", ["我没生气", "并不是很生气，就问问", "没有不满意", "不是投诉"])
def test_negated_anger_is_calm(text):
    assert score_message(text).label == "calm", text


def test_negated_praise_is_mild_dissatisfaction():
    reading = score_message("不是很满意")
    assert reading.label in ("impatient", "frustrated")
    assert reading.score < HANDOFF


@pytest.mark.parametrize("text", ["这不是骗人吗", "你们是不是骗子", "难道不是坑人吗"])
def test_rhetorical_questions_do_not_negate(text):
    assert score_message(text).score >= HANDOFF, text


@pytest.mark.parametrize("simplified,variant", [
    ("垃圾客服，气死我了", "垃圾客服，氣死我了"),          # Traditional
    ("什么破快递，垃圾！", "什麼破快遞，垃圾！"),            # Traditional
    ("tmd到底什么时候发货", "ＴＭＤ到底什么时候发货"),        # full-width capitals
    ("你们就是骗子", "你 们 就 是 骗 子"),                  # spaced out
    ("什么破快递，垃圾！", "什么破快递，辣鸡！"),             # slang spelling
    ("你们就是骗子", "你们就是骗纸"),                        # slang spelling
    ("什么破快递，垃圾！", "什么破快递，拉圾！"),             # typo
])
def test_traditional_full_width_spacing_and_typos_score_like_the_clean_form(simplified, variant):
    clean, noisy = score_message(simplified), score_message(variant)
    assert noisy.label == clean.label
    assert abs(noisy.score - clean.score) < 0.05


def test_angry_emoji_count_and_friendly_emoji_soften():
    assert score_message("快递还没到😡").score > score_message("快递还没到").score
    assert score_message("🤬🤬🤬").label in ("frustrated", "angry")
    assert score_message("能快点吗🙏").score <= score_message("能快点吗").score


def test_catalogue_names_containing_cue_words_do_not_fire():
    reading = score_message("空气炸锅的炸篮怎么拆")
    assert reading.cues == [] and reading.label == "calm"


def test_output_shape_is_what_actions_and_the_ticket_read():
    data = score_message("垃圾，气死了！！！").as_dict()
    assert set(data) == {"label", "score", "cues", "threat", "safety", "sarcasm"}
    assert 0.0 <= data["score"] <= 1.0 and isinstance(data["cues"], list)


def test_scoring_is_deterministic():
    texts = CALM + MILD + ANGRY
    assert [score_message(t).as_dict() for t in texts] == [score_message(t).as_dict() for t in texts]


def test_scoring_takes_well_under_a_millisecond():
    from bot.emotion import score_text
    from bot.textnorm import normalise

    texts = [(normalise(t).text, t) for t in CALM + MILD + ANGRY]
    score_text(*texts[0])
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for text, raw in texts:
            score_text(text, raw)
    per_message = (time.perf_counter() - start) / (rounds * len(texts))
    assert per_message < 0.001, f"{per_message * 1e6:.0f} µs per message"


def test_component_puts_emotion_in_the_parse_result():
    from rasa.shared.nlu.training_data.message import Message

    from bot.normalizer import ChineseNormalizer

    normaliser = ChineseNormalizer()
    scorer = EmotionScorer({})
    message = Message.build(text="什麼破快遞，垃圾！！！😡")
    scorer.process(normaliser.process([message]))
    parsed = message.as_dict(only_output_properties=True)
    assert parsed["emotion"]["label"] == "angry"
    assert "emoji:😡" in parsed["emotion"]["cues"]
    assert "punct:!!!" in parsed["emotion"]["cues"]


def test_component_works_without_the_normaliser():
    from rasa.shared.nlu.training_data.message import Message

    message = Message.build(text="氣死我了！！！")
    EmotionScorer({}).process([message])
    assert message.get("emotion")["score"] >= HANDOFF
