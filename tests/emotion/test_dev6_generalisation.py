"""Classes of messages behind the sixth development set's message-level errors, each tested on both
sides: what the rule must catch and what it must leave alone. False handoffs came from another
shop's or a friend's case, a hypothetical, resigned impatience, joking anger, sincere thanks in a
sarcastic shape, a complaint word taken back (我还投诉个啥, 差评是不可能差评的) and questions about
the agents; misses from cold formal or dialect anger, arbitration and an audience as a lever, falls,
pets and contaminated food, a statement with two entries, disputes, the bot as good as no answer,
several problems written with spaces, and playful or plain requests for a person.
The sentences are new, not copies of data/dev/escalation_dev6.yml."""
from __future__ import annotations

import pytest

from bot.emotion import score_message
from bot.escalation import EscalationSettings
from bot.escalation_cues import text_signals

from .test_dev_categories import reason_for, user

HANDOFF = EscalationSettings().anger_threshold  # 0.45


def calm_enough(text: str) -> None:
    reading = score_message(text)
    assert reading.score < HANDOFF and not reading.threat and not reading.safety, reading.as_dict()


# ------------------------------------------------------------ someone else's case, a hypothetical

@pytest.mark.parametrize("text", [
    "投诉平台一般几天给结果啊 我表姐之前投诉过别的店 随便问问",
    "平台投诉大概多久有回复 我同事上个月投诉了另一家 好奇",
])
def test_a_question_about_complaints_with_someone_else_s_case_is_no_threat(text):
    calm_enough(text)
    assert reason_for(user(text, "complain", confidence=0.5)) is None


def test_a_complaint_of_our_own_with_the_same_question_is_still_one():
    assert score_message("我要投诉你们 投诉一般几天有结果").score >= HANDOFF


@pytest.mark.parametrize("text", [
    "我同事在别的店买的电热毯烧焦了 你们这款有没有防干烧",
    "闺蜜在别家买的充电宝鼓包了 好吓人 你们家的质量怎么样",
])
def test_another_shop_s_hazard_is_no_safety_report(text):
    calm_enough(text)
    assert reason_for(user(text, "report_damaged")) is None


@pytest.mark.parametrize("text", [
    "你们家的电热毯烧焦了",
    "别家的都没事 你们家的充电宝鼓包了",
])
def test_our_own_hazard_is_still_a_safety_report(text):
    assert score_message(text).safety


@pytest.mark.parametrize("text", [
    "替我妈问一下 她在别家买的快递显示签收了可没拿到 这种情况找谁",
    "帮同事咨询下 他在别的商家那儿买的东西显示签收了却没收到 该怎么办",
])
def test_someone_else_s_lost_parcel_at_another_shop_is_not_ours(text):
    signals = text_signals(text)
    assert signals.not_received is None and signals.asked_about
    assert reason_for(user(text, "report_lost_package")) is None


def test_our_lost_parcel_is_still_one():
    assert text_signals("我的快递显示签收了可我没拿到").not_received
    assert reason_for(user("我的快递显示签收了可我没拿到", "report_lost_package")) == "lost_parcel"


@pytest.mark.parametrize("text", [
    "要是包裹放快递柜了我一直没去拿 会退回吗",
    "假设快递放门口了我没看到 丢了算谁的",
])
def test_a_hypothetical_parcel_is_no_lost_parcel(text):
    assert text_signals(text).not_received is None


# ------------------------------------------------------------ resigned impatience, jokes, sincere thanks

@pytest.mark.parametrize("text", [
    "无语 怎么还没到 行吧 那你帮我查查到哪了",
    "服了 还没发货 好吧 麻烦帮我看下什么时候能发",
])
def test_exasperation_that_gives_in_and_asks_the_bot_is_no_anger(text):
    assert score_message(text).score < HANDOFF


@pytest.mark.parametrize("text", [
    "无语 怎么还没到 你们到底在干嘛",
    "服了 还没发货 好吧 你们就是骗子",
])
def test_exasperation_with_an_accusation_or_no_giving_in_is_still_anger(text):
    assert score_message(text).score >= HANDOFF


@pytest.mark.parametrize("text", [
    "气死了 这么好吃怎么现在才发现你家 已经回购第三次了哈哈",
    "气死我了 咋才发现这家 相见恨晚😂",
])
def test_anger_said_laughing_beside_praise_is_a_joke(text):
    calm_enough(text)
    assert reason_for(user(text, "complain", confidence=0.45)) is None


def test_laughing_anger_about_a_failure_is_not_a_joke():
    assert score_message("气死我了 又发错了 哈哈").score >= HANDOFF


@pytest.mark.parametrize("text", [
    "我真的会谢 售后小哥超专业 很快就帮我弄好了",
    "真的会谢 客服太耐心了 给个好评",
])
def test_thanks_shaped_sarcasm_with_praise_and_no_complaint_is_thanks(text):
    reading = score_message(text)
    assert not reading.sarcasm and reading.score < HANDOFF


def test_thanks_shaped_sarcasm_about_a_failure_is_still_sarcasm():
    assert score_message("我真的会谢 又给我发错了").score >= HANDOFF


@pytest.mark.parametrize("text", [
    "你们家东西这么好 我还差评个啥",
    "要是一直这么靠谱 我还投诉什么呀",
    "差评是不会差评的 太好用了",
    "投诉是不可能投诉的 这辈子都不可能",
])
def test_a_complaint_word_the_shopper_says_they_will_not_use_is_none(text):
    calm_enough(text)


@pytest.mark.parametrize("text", [
    "再不处理我就给差评",
    "你们是不是想要差评",
])
def test_a_real_review_threat_still_counts(text):
    assert score_message(text).threat


def test_a_denied_accusation_that_is_no_meme_keeps_its_weight():
    assert "negative:骗子" in score_message("你们这种骗子是不会承认的").cues


def test_a_hazard_pattern_does_not_reach_across_a_clause_gap():
    assert not score_message("台灯少了螺丝 灯罩裂了").safety
    assert score_message("婴儿车的刹车坏了").safety


# ------------------------------------------------------------ questions about the agents

@pytest.mark.parametrize("text", [
    "你们人工客服周末也在线吗",
    "真人客服和机器人回答的有区别吗",
    "人工入口在哪 先记一下 下次要用",
])
def test_a_question_about_the_agents_is_no_request(text):
    assert text_signals(text).human_asked_about
    assert reason_for(user(text, "request_human", confidence=0.6)) is None


def test_a_request_beside_a_question_about_agents_still_counts():
    assert reason_for(user("人工客服周末在线吗 我现在就要转人工", "request_human")) == "explicit_request"


@pytest.mark.parametrize("text", [
    "机器人休息一下吧 叫个小姐姐来",
    "能不能派个人来帮我处理一下 我说不明白",
    "换位客服小哥哥来呗",
])
def test_a_person_asked_for_playfully_or_plainly_is_a_request(text):
    assert text_signals(text).human_request
    assert reason_for(user(text, "inform", confidence=0.4)) == "explicit_request"


@pytest.mark.parametrize("text", ["能找个人帮我代收快递吗", "换个颜色可以吗"])
def test_a_person_for_something_else_is_no_request(text):
    assert text_signals(text).human_request is None


# ------------------------------------------------------------ cold, formal and dialect anger

@pytest.mark.parametrize("text", [
    "你好。收到的货物与宣传严重不符。请贵店给出书面解释。谢谢。",
    "我已经很克制了 这是第四次问这个退款 请给我一个明确答复",
    "这整的啥玩意儿 埋汰得不行 闹心",
    "啥子东西嘛 花钱买罪受",
    "售后装死 问了三天没人理",
    "一出问题就踢皮球 都是你们的套路",
    "气得我一晚上睡不着 新买的锅就漏了",
])
def test_cold_formal_and_dialect_anger_hands_off(text):
    assert score_message(text).score >= HANDOFF
    assert reason_for(user(text, "complain", confidence=0.3)) == "anger"


@pytest.mark.parametrize("text", [
    "你好 请问这款和宣传图一样吗 谢谢",
    "赠品是啥玩意儿呀 好奇",
    "安装死角怎么清理",
    "客服已经很客气了 谢谢",
    "这个套路由器怎么设置",
])
def test_plain_questions_with_the_same_words_stay_calm(text):
    assert score_message(text).score < HANDOFF


# ------------------------------------------------------------ threats

@pytest.mark.parametrize("text", [
    "再拖着不办 我就申请仲裁",
    "我同学是做博主的 几十万粉 我随时可以让她发出来",
])
def test_arbitration_and_an_audience_asked_to_post_are_threats(text):
    assert score_message(text).threat
    assert reason_for(user(text, "inform")) == "threat"


@pytest.mark.parametrize("text", ["我朋友是博主 推荐我来买的", "我朋友有几十万粉 她说你们家的好用"])
def test_an_audience_without_a_threat_is_none(text):
    assert not score_message(text).threat


# ------------------------------------------------------------ safety

@pytest.mark.parametrize("text", [
    "我爷爷用你们的拐杖摔倒了 手肘都擦破了",
    "助步车突然散架 老人家跌倒了 腿都青了",
    "狗狗被你们的牵引绳勒到了",
    "自动喂食器把我家小猫的爪子夹伤了",
    "米粉袋里发现活的虫子 孩子已经吃了",
    "奶粉罐里居然有玻璃 宝宝已经喝了",
])
def test_falls_pets_and_contaminated_food_are_safety(text):
    assert score_message(text).safety
    assert reason_for(user(text, "report_damaged")) == "safety"


@pytest.mark.parametrize("text", [
    "手机摔了一下 屏幕没事吧",
    "猫咪很喜欢这个猫爬架",
    "奶粉罐子里有勺子吗",
    "孩子喝了说好喝",
])
def test_the_same_words_without_harm_are_no_safety(text):
    assert not score_message(text).safety


# ------------------------------------------------------------ double charge, disputes, compensation

@pytest.mark.parametrize("text", [
    "流水里出现了两笔一样的159",
    "怎么有两笔159 可我就下了一单",
])
def test_two_statement_entries_for_one_purchase_are_a_double_charge(text):
    assert text_signals(text).double_charge
    assert reason_for(user(text, "check_order_status")) == "double_charge"


def test_paying_in_two_parts_is_no_double_charge():
    assert text_signals("我分两笔付的款 可以吗").double_charge is None


@pytest.mark.parametrize("text", [
    "签收不是我本人签的 东西也没见着",
    "收到的是个空瓶子",
    "称了下少了50克 这不是缺斤少两吗",
    "退款申请被驳回了 可活动页写着七天无理由",
])
def test_disputes(text):
    assert text_signals(text).dispute
    assert reason_for(user(text, "inform")) == "dispute"


def test_an_empty_parcel_asked_about_is_no_dispute():
    assert text_signals("要是收到空的袋子怎么办").dispute is None


@pytest.mark.parametrize("text", [
    "杯子碎得不成样子 光退款可不行 得补偿",
    "衣服全湿透了 除了退款你们还得赔点",
])
def test_refund_alone_not_enough_with_damage_is_compensation(text):
    signals = text_signals(text)
    assert signals.compensation and signals.damage
    assert reason_for(user(text, "inform")) == "damage_compensation"


def test_an_order_marked_complete_that_never_came_is_a_lost_parcel():
    assert text_signals("订单显示交易成功 可我根本没拿到东西").not_received


# ------------------------------------------------------------ the bot's answers do not help

@pytest.mark.parametrize("text", [
    "你说的和没回答有啥区别",
    "处理不了就直说 别浪费我时间",
    "说得挺好 可对我没啥用",
    "你是不是只会说亲亲请稍等",
])
def test_the_answer_is_as_good_as_none(text):
    assert text_signals(text).bot_not_helping
    assert reason_for(user(text, "inform")) == "bot_not_helping"


@pytest.mark.parametrize("text", ["你们只会发顺丰吗", "这个我没怎么用过", "不会用就问你们吗"])
def test_the_same_words_about_something_else_are_not(text):
    assert text_signals(text).bot_not_helping is None


# ------------------------------------------------------------ several problems, spaces as commas

@pytest.mark.parametrize("text", [
    "快递慢也就算了 外箱压瘪了 里面的碗也碎了",
    "一共两样 一样没到 到的那个是破的",
    "鞋子两只不是一个码 盒子也是破的",
    "沙发有股怪味 退货还要我出运费",
    "椅子少了配件 坐垫也破了",
])
def test_several_problems_written_with_spaces(text):
    assert text_signals(text).multi_issue
    assert reason_for({"event": "user", "text": text,
                       "parse_data": {"intent": {"name": "inform", "confidence": 0.9},
                                      "emotion": score_message(text).as_dict()}}) == "multi_issue"


@pytest.mark.parametrize("text", ["快递挺快的 包装也很好", "衣服有股香味 很好闻"])
def test_praise_written_with_spaces_is_no_problem_list(text):
    assert not text_signals(text).multi_issue
