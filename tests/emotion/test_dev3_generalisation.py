"""Classes of messages behind the third development set's errors (issue 5), each tested on
both sides: what the new rule must catch and what it must leave alone. The sentences are new,
not copies of data/dev/escalation_dev3.yml."""
from __future__ import annotations

import pytest

from bot.emotion import score_message
from bot.escalation_cues import text_signals

from .test_dev_categories import bot, reason_for, user

# ------------------------------------------------------------ anger about life outside the shop


@pytest.mark.parametrize("text", [
    "看球赛看得气死了，裁判太黑！顺便问下我的订单发了吗",
    "我婆婆气死我了，算了不说了，帮我查个物流",
    "考试考砸了都气哭了，帮我查下快递到哪了",
])
def test_anger_about_something_else_then_a_calm_request_stays_with_the_bot(text):
    reading = score_message(text)
    assert reading.score < 0.45
    assert reason_for(user(text, "track_shipment")) is None


@pytest.mark.parametrize("text", [
    "我老公都被你们气死了，东西又发错了",     # the clause names the shop
    "快递五天没到，我老公都气死了",           # the rest of the message complains
    "追剧气死了，快递还没到",
])
def test_anger_next_to_a_complaint_about_the_shop_still_counts(text):
    assert score_message(text).score >= 0.45


# ------------------------------------------------------------ 差评 asked about, not threatened


@pytest.mark.parametrize("text", ["我给的差评能追评改掉吗", "差评多久会显示出来？", "你们家差评会被系统自动隐藏吗"])
def test_questions_about_the_review_system_are_no_threat(text):
    reading = score_message(text)
    assert not reading.threat
    assert reason_for(user(text, "faq")) is None


@pytest.mark.parametrize("text", ["再不退款我就给差评", "等着吃差评吧", "差评！东西太烂了", "你们是不是想要差评？"])
def test_review_threats_still_hand_off(text):
    assert score_message(text).threat


# ------------------------------------------------------------ threats and hazards that happened elsewhere


@pytest.mark.parametrize("text", [
    "之前在别家买东西打过12315，你们这边售后怎么样",
    "邻居说他举报过别的商家，好奇问问你们发票怎么开",
])
def test_threats_about_another_shop_are_not_ours(text):
    assert not score_message(text).threat
    assert reason_for(user(text, "faq")) is None


@pytest.mark.parametrize("text", ["别家都能退，你们凭什么不能？我要打12315", "你们比别家还黑，打12315去"])
def test_comparing_with_another_shop_while_threatening_us_is_a_threat(text):
    assert score_message(text).threat


@pytest.mark.parametrize("text", [
    "看报道说有电热毯漏电着火，你们这款有没有过热保护",
    "听说这种锂电池会鼓包，你们的质量怎么样",
    "安全座椅的卡扣会不会被孩子掰断了",      # the modal comes before the hazard verb
])
def test_news_hearsay_and_hypothetical_hazards_are_not_safety_reports(text):
    assert not score_message(text).safety


@pytest.mark.parametrize("text", [
    "网上买的暖手宝漏电了",                   # 网上 as where it was bought, not hearsay
    "宝宝刚刚吞了一颗纽扣电池会不会有事",      # a real event, asked about afterwards
    "差点被玩具的小零件噎到",                 # a near miss is a hazard that happened
])
def test_real_hazards_are_safety_even_in_a_question_or_a_near_miss(text):
    assert reason_for(user(text, "report_damaged")) == "safety"


def test_a_counterfactual_still_cancels_a_threat():
    assert not score_message("差点就投诉了，还好客服处理得快").threat


# ------------------------------------------------------------ polite urging


@pytest.mark.parametrize("text", ["亲亲赶紧发货哈，急用急用！！", "快点发呀，拜托拜托，急急急！！"])
def test_polite_urging_is_mild_impatience(text):
    reading = score_message(text)
    assert reading.label == "impatient"
    assert reason_for(user(text, "urge_shipment")) is None


@pytest.mark.parametrize("text", ["赶紧发货！！！急急急，气死了", "快点快点快点！！！"])
def test_urging_with_anger_or_without_a_friendly_word_is_more(text):
    assert score_message(text).score >= 0.45


# ------------------------------------------------------------ a person not needed


@pytest.mark.parametrize("text", ["倒不是非得找人工，你直接告诉我运费多少就行", "也不一定要人工，能开发票吗"])
def test_saying_a_person_is_not_needed_is_no_request(text):
    assert reason_for(user(text, "request_human")) is None


@pytest.mark.parametrize("text", ["不行，我就要人工", "给我转人工"])
def test_asking_for_a_person_still_hands_off(text):
    assert reason_for(user(text, "request_human")) == "explicit_request"


# ------------------------------------------------------------ misses: new wording of known reasons


def test_angry_to_tears_is_anger():
    assert reason_for(user("被你们客服气哭了，问了半天没人管", "complain")) in ("anger", "complaint")
    assert score_message("被你们客服气哭了").score >= 0.45


@pytest.mark.parametrize("text", ["拆开盒子里面啥也没有", "打开只有一堆纸团，东西呢"])
def test_an_empty_parcel_is_a_dispute(text):
    assert reason_for(user(text, "report_damaged")) == "dispute"


@pytest.mark.parametrize("text", ["如果收到的盒子是空的怎么办", "包装盒里的泡沫可以扔吗"])
def test_asking_about_an_empty_parcel_or_the_packing_is_not_one(text):
    assert text_signals(text).dispute is None


def test_damage_in_other_words_with_a_compensation_demand():
    assert reason_for(user("洗衣机送来时外壳撞瘪了，必须赔偿", "inform")) == "damage_compensation"
    assert reason_for(user("不用赔偿，外壳有点凹陷我能接受", "inform")) is None
    assert reason_for(user("外壳撞瘪了一点，能便宜点吗", "inform")) is None


@pytest.mark.parametrize("text", ["过了客服说好的到账时间了，退款还没到", "后台显示已退款，可银行说查不到这笔入账"])
def test_refund_past_its_promised_time_or_unknown_to_the_bank_is_overdue(text):
    assert text_signals(text).refund_overdue


@pytest.mark.parametrize("text", ["退款显示成功了，一般多久到账", "银行说没收到这笔退款，你们那边退了没"])
def test_refund_timing_questions_are_not_overdue(text):
    assert text_signals(text).refund_overdue is None


@pytest.mark.parametrize("text", ["paypal那边被charge了2次", "我交了两次钱，同一个订单", "我俾咗兩次錢"])
def test_double_charge_in_mixed_english_and_cantonese(text):
    assert text_signals(text).double_charge


@pytest.mark.parametrize("text", ["定金和尾款是不是要给两次钱", "分两次付款可以吗"])
def test_paying_in_two_instalments_is_not_a_double_charge(text):
    assert text_signals(text).double_charge is None


@pytest.mark.parametrize("text", [
    "杯口太锋利了，喝水把嘴划了个小口子",
    "充电的时候线都烧化了",
    "孩子吃果冻噎住了，吓死我了",
])
def test_cuts_sharp_edges_melting_and_choking_are_safety(text):
    assert reason_for(user(text, "report_damaged")) == "safety"


@pytest.mark.parametrize("text", [
    "纸箱用刀划开个口子就能拿出来吗",
    "这把菜刀锋利吗",
    "巧克力到的时候都化了",
    "喝水呛到了哈哈，没事，问下发货",
    "宝宝吃饭容易呛到，这个餐椅有挡板吗",
])
def test_ordinary_cutting_melting_and_coughing_are_not_safety(text):
    assert not score_message(text).safety


def test_asking_once_more_about_what_was_asked_is_a_loop():
    assert reason_for(user("发票怎么开", "faq", faq_key="faq/invoice"), bot("utter_faq"), bot("action_listen"),
                      user("开发票在哪里弄", "check_order_status"), bot("action_check_order_status"),
                      bot("action_listen"), user("我再问一次，发票到底在哪开", "faq", faq_key="faq/ship_time")) == "loop"


def test_asking_once_more_about_something_new_is_not_a_loop():
    assert reason_for(user("运费多少", "faq", faq_key="faq/shipping_fee"), bot("utter_faq"), bot("action_listen"),
                      user("再问一下，能开发票吗", "faq", faq_key="faq/invoice")) is None
    assert reason_for(user("你好", "greet"), bot("utter_greet"), bot("action_listen"),
                      user("再问一遍，能发顺丰吗", "faq", faq_key="faq/shipping_carrier")) is None


@pytest.mark.parametrize("text", ["核验一直不通过，试了好几次", "订单号跟手机号匹配不上"])
def test_failed_verification_in_other_words(text):
    assert reason_for(user(text, "inform")) == "verification_failed"


@pytest.mark.parametrize("text", ["如果验证失败了怎么办", "验证码收到了，谢谢"])
def test_asking_about_verification_is_not_failing_it(text):
    assert text_signals(text).cannot_verify is None


def test_an_enumerated_list_of_problems_is_multi_issue():
    assert reason_for(user("一是说明书都是日文，二是按了开关没反应", "report_damaged")) == "multi_issue"


def test_an_enumerated_list_of_questions_is_not():
    assert reason_for(user("第一，运费多少；第二，能开发票吗；第三，几天发货", "faq", faq_key="faq/shipping_fee")) is None


# ------------------------------------------------------------ a complain intent on a discounted word


@pytest.mark.parametrize("text", ["差评会不会被系统隐藏？就是好奇问问", "追剧追得我气死了，对了查下快递"])
def test_a_complaint_intent_on_a_review_question_or_off_topic_anger_is_withdrawn(text):
    assert reason_for(user(text, "complain")) is None


def test_a_complaint_intent_with_a_real_complaint_still_hands_off():
    assert reason_for(user("东西坏了，态度还这么差", "complain")) == "complaint"


# ------------------------------------------------------------ public exposure threats


@pytest.mark.parametrize("text", ["再不处理我就把聊天记录发到网上", "我要在知乎上把这件事公开", "让大家评评理，你们这样对吗"])
def test_threats_to_post_the_case_publicly(text):
    assert score_message(text).threat


@pytest.mark.parametrize("text", ["买家秀可以发到微博吗", "截图发到群里问问朋友意见", "你们的商品图片可以发到朋友圈吗",
                                  "这件衣服我想让大家都看看，好看吗"])
def test_sharing_photos_or_asking_friends_is_no_threat(text):
    assert not score_message(text).threat
