"""Classes of messages behind the fifth development set's message-level errors (anger, threat and
safety missed; safety, threat and anger fired on a question before buying, another shop's story and
praise), each tested on both sides: what the rule must catch and what it must leave alone.
The sentences are new, not copies of data/dev/escalation_dev5.yml."""
from __future__ import annotations

import pytest

from bot.cantonese import to_mandarin
from bot.emotion import score_message, score_text
from bot.escalation import EscalationSettings
from bot.textnorm import clause_gaps, normalise

from .test_dev_categories import reason_for, user

HANDOFF = EscalationSettings().anger_threshold  # 0.45

# ------------------------------------------------------------ spaces as commas
# The normaliser drops spaces between Chinese characters; shoppers use them as commas. The scorer
# sees the break again (bot.textnorm.clause_gaps), so a question or another shop's story stays in
# its own clause.


def test_clause_gaps_are_between_phrases_only():
    text = "会起疹子吗 我是敏感肌 想入手"
    result = normalise(text)
    assert result.text == "会起疹子吗我是敏感肌想入手"
    assert clause_gaps(text, result) == [5, 10]
    for spaced in ("骗 子", "我 要 退 货", "不 生 气"):
        assert clause_gaps(spaced, normalise(spaced)) == []


@pytest.mark.parametrize("text", [
    "会起疹子吗 我是敏感肌 想入手这款面膜",
    "用了会不会红肿啊 皮肤比较薄 先问清楚再买",
    "會過敏嗎 我是敏感肌 想買那個面霜",
])
def test_a_safety_question_before_buying_is_no_report(text):
    reading = score_message(text)
    assert not reading.safety and reading.score < HANDOFF


@pytest.mark.parametrize("text", [
    "之前在别的店买到过山寨货 投诉到12315才退 你们这个是正品吗",
    "以前在别家买过假货 最后打了12345才解决 想问下你们家这款有防伪码吗",
])
def test_another_shop_s_story_over_several_phrases_is_not_about_us(text):
    reading = score_message(text)
    assert not reading.threat and reading.score < HANDOFF
    assert any(c.startswith("offtopic:") for c in reading.cues)


@pytest.mark.parametrize("text", [
    "别家都发货了 我的快递三天没动 气死了",      # a comparison, then our parcel
    "别家都包邮 就你们不包 垃圾",
])
def test_a_comparison_with_another_shop_still_complains_about_us(text):
    assert score_message(text).score >= HANDOFF


def test_spaced_out_characters_and_repeats_still_count():
    assert "negative:骗子" in score_message("骗 子").cues
    assert any(c.startswith("repeat:") for c in score_message("快点 快点 快点").cues)


def test_the_pipeline_path_without_gap_signals_works_them_out_from_the_raw_text():
    raw = "之前在别的店买到过山寨货 投诉到12315才退 你们这个是正品吗"
    result = normalise(raw)
    from_pipeline = score_text(result.text, raw, {"emoji": result.emoji})
    assert from_pipeline.as_dict() == score_message(raw).as_dict()


# ------------------------------------------------------------ exasperation next to a complaint
# 服了, 心累, 崩溃, 这都第几次了 (exasperation.txt) weigh 0.45 when the message also complains.


@pytest.mark.parametrize("text", [
    "服了 客服说今天发 结果还是没发",
    "心累 换货申请提交了五天了还是待审核",
    "崩溃 第二次收到碎的了",
    "这都第几次了 又少发一个配件",
    "已經第三次了 每次寄來都是壞的",
    "這是第幾次了 每回發貨都漏東西",
])
def test_exasperation_about_a_failure_is_anger(text):
    reading = score_message(text)
    assert reading.score >= HANDOFF
    assert any(c.startswith("exasperation:") for c in reading.cues)
    assert reason_for(user(text, "complain", confidence=0.3)) == "anger"


@pytest.mark.parametrize("text", [
    "服了",
    "心累",
    "服了，这么快就到了，昨天才下的单",
    "这是第二次了哈 麻烦看下物流",
    "崩溃了 孩子一直哭 能推荐个安抚玩具吗",
    "客服了解一下这个尺码",
])
def test_exasperation_alone_or_about_good_news_stays_below(text):
    reading = score_message(text)
    assert reading.score < HANDOFF
    assert not any(c.startswith("exasperation:") for c in reading.cues)


# ------------------------------------------------------------ insults, abandonment, retorts


@pytest.mark.parametrize("text", [
    "每次都发错 你们打包的是不是眼瞎",
    "你们客服是不是不识字 我写的备注看不见吗",
    "發貨的人是不是沒長眼 地址寫得清清楚楚",
    "想退个款比登天还难",
    "好家伙 找个人工客服怎么这么难",
    "钱到手了就不理人了是吧",
    "付完款就没人管了",
    "亲亲什么亲亲 赶紧给我退钱",
    "谢什么谢 问题解决了吗",
    "抱歉有什么用 我要的是解决办法",
    "别叫我亲 快点处理",
])
def test_rhetorical_insults_abandonment_and_retorts_are_anger(text):
    assert score_message(text).score >= HANDOFF


@pytest.mark.parametrize("text", [
    "是我眼瞎 选错颜色了 能改吗",
    "我是不是瞎了 找不到退货入口",
    "每次都很快 这次也是",
    "那我就不退了是吧 留着自己用",
    "这个不用退了是吧",
    "亲 什么时候发货呀",
    "谢谢亲 什么时候能到",
    "这个拼图好难啊 有没有简单点的",
    "退货麻烦吗",
])
def test_self_blame_questions_and_politeness_are_calm(text):
    assert score_message(text).score < HANDOFF


# ------------------------------------------------------------ hopelessness


@pytest.mark.parametrize("text", [
    "对你们彻底不抱希望了 直接申请退款",
    "算了 不抱希望了 爱退不退",
    "这次真的心寒了",
    "我已經對你們不抱任何希望了",
])
def test_hopelessness_is_anger(text):
    assert score_message(text).score >= HANDOFF


@pytest.mark.parametrize("text", [
    "本来没抱什么希望 结果第二天就到了",
    "一开始没抱太大期望 用了之后真香",
    "本来不抱希望了 没想到找回来了",
    "爱吃不吃的 我家孩子挑食",
])
def test_a_pleasant_surprise_and_other_people_s_whims_are_calm(text):
    assert score_message(text).score < HANDOFF


# ------------------------------------------------------------ "or else" with a lever


@pytest.mark.parametrize("text", [
    "我抖音有十几万粉丝 这事你们看着办",
    "我同事就是律师 你们最好给我一个交代",
    "聊天记录我都截图了 咱们走着瞧",
    "我在好几个业主群里 你们自己掂量掂量",
    "我IG有幾萬粉絲 你們自己看著辦",
    "差评我写好了就看你们怎么处理",
    "差评已经编辑好了 看你们怎么解决",
])
def test_an_ultimatum_with_a_lever_is_a_threat(text):
    assert score_message(text).threat
    assert reason_for(user(text, "complain")) == "threat"


@pytest.mark.parametrize("text", [
    "我有五万粉丝 可以合作推广吗",
    "我朋友是律师 他推荐的你们家",
    "发什么快递你们看着办就行",
    "颜色你们看着办吧 随便哪个都行",
    "你们等着收货吧 我已经寄回去了",
    "你们等着 我找一下订单号",
    "你们自己看着办",                 # an ultimatum without a lever: not a threat (0.3)
    "差评写了还能改吗",
])
def test_levers_alone_delegation_and_plain_waiting_are_no_threat(text):
    reading = score_message(text)
    assert not reading.threat and reading.score < HANDOFF


# ------------------------------------------------------------ safety: near misses, symptoms, exposure


@pytest.mark.parametrize("text", [
    "婴儿车的刹车失效了 下坡的时候差点冲出去",
    "滑板车刹车不好使 孩子差点摔",
    "电动牙刷充电的时候差点着火",
    "喝了你们家的酸奶 一晚上拉了三次肚子",
    "我妈吃了这个阿胶 头晕得厉害",
    "吃了你们的减肥茶 现在一直心慌",
    "染发剂用完头皮刺痛",
    "宝宝喝完奶粉就吐",
    "牛奶收到了 袋子胀袋了 还能喝吗",
    "收到的辣条漲袋了",
    "宝宝一直咬这个牙胶 上面的漆掉了 有没有毒",
    "孩子每天用这个碗吃饭 涂层掉了好多 会不会有害",
    "小孩已经吃了两颗 会不会有事啊",
    "宝宝吃了这个米粉 没事吧 里面有黑点",
    "孩子误食了干燥剂",
])
def test_near_misses_symptoms_and_worried_exposure_are_safety(text):
    assert score_message(text).safety
    assert reason_for(user(text, "report_damaged")) == "safety"


@pytest.mark.parametrize("text", [
    "差点忘了 我还要买一个",
    "差点买错了 幸好看了一眼",
    "差点气炸了 快递又没到",
    "差点笑死 客服太可爱了",
    "那个刹车不灵吗 我看评论有人说",
    "吃了没事 就是有点咸",
    "吃了好几包都没拉肚子 放心",
    "用了一周没过敏 挺好的",
    "吃了三天胃疼好多了 谢谢推荐",
    "吃了会不会拉肚子啊",
    "孕妇吃了会不会有影响",
    "胀袋是正常的吗 还没拆",
    "我家孩子天天拿这个杯子喝水 很喜欢",
    "宝宝天天喝这款奶粉 长得很好",
    "孩子吃了说还想吃 再来两包",
    "宝宝吃了一罐了 还会有活动吗",
])
def test_near_misses_in_words_denied_symptoms_and_happy_children_are_not_safety(text):
    assert not score_message(text).safety


# ------------------------------------------------------------ Cantonese 好耐 is not 好耐心


def test_patience_and_durability_are_not_cantonese_for_a_long_time():
    assert to_mandarin("客服好耐心") == "客服好耐心"
    assert to_mandarin("呢个锅好耐用") == "呢个锅好耐用"
    assert to_mandarin("等咗好耐") == "等了好久"


def test_thanks_for_patience_after_asking_many_times_is_praise():
    reading = score_message("你哋客服好耐心 我問咗好多次都唔嫌煩 好感動😭")
    assert reading.score < HANDOFF
    assert "praise:耐心" in reading.cues
