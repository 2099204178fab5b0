"""Classes of messages behind the seventh development set's message-level errors, each tested on both
sides: what the rule must catch and what it must leave alone. False handoffs came from a media
platform named as the shop window, one delay said twice, a problem put right before the thanks, a
joke or a threat said in anger and taken back, a signed-for puzzle solved, a negated fake or symptom,
a question about normal heat, news hearsay denied, and a wish to praise an agent; misses from
Traditional requests for a dedicated person or the agent on duty, a made-up size chart, a
chargeback, a cut to a family member, a payment taken again, refunds short or of the wrong kind,
refused price protection, a tax the shop said it covered, a bulk order short, the bot answering
another question or going in circles, and three faults listed without joiners.
The sentences are new, not copies of data/dev/escalation_dev7.yml."""
from __future__ import annotations

import pytest

from bot.emotion import score_message
from bot.escalation import EscalationSettings
from bot.escalation_cues import cached_cues, text_signals

from .test_dev_categories import reason_for, user

HANDOFF = EscalationSettings().anger_threshold


def calm_enough(text: str) -> None:
    reading = score_message(text)
    assert reading.score < HANDOFF and not reading.threat and not reading.safety, reading.as_dict()


# ------------------------------------------------------------ a platform as the shop window

@pytest.mark.parametrize("text", [
    "我在抖音小店下的单 赠品是单独寄吗",
    "刷抖音刷到你们家的保温杯 有粉色的吗",
    "小红书上看到的同款连衣裙 你们有M码吗",
])
def test_a_platform_named_as_where_the_shopper_bought_or_saw_is_no_threat(text):
    calm_enough(text)


@pytest.mark.parametrize("text", ["再不退款我就发抖音曝光你们", "我要发小红书让大家看看你们"])
def test_posting_on_the_platform_is_still_a_threat(text):
    assert score_message(text).threat


# ------------------------------------------------------------ one delay said twice

@pytest.mark.parametrize("text", ["哎 又晚了 上周下单的衣服还没到", "物流又延迟了 我的包裹到现在还没收到"])
def test_a_late_parcel_named_twice_is_one_problem(text):
    assert not text_signals(text).multi_issue


def test_a_late_parcel_and_another_problem_are_still_two():
    assert text_signals("物流又延迟了 到了还发错了颜色").multi_issue


# ------------------------------------------------------------ a problem put right, then thanks

@pytest.mark.parametrize("text", [
    "上次少寄的螺丝重新发的已经到了 谢谢你们 特别负责",
    "漏发的赠品补寄的也收到了 谢谢你们",
])
def test_thanks_after_a_problem_put_right_is_thanks(text):
    calm_enough(text)


def test_thanks_while_the_problem_stands_is_still_sarcasm():
    assert score_message("漏发的配件到现在还没补 谢谢你们").score >= HANDOFF


# ------------------------------------------------------------ a joke, a threat taken back

@pytest.mark.parametrize("text", [
    "逗你们的 我要是给差评 我老公第一个说我",
    "上次说要投诉你们是气话 东西其实挺好用的",
    "开个玩笑 要曝光也是曝光你们太便宜了",
])
def test_a_joking_or_taken_back_threat_is_no_threat(text):
    calm_enough(text)
    assert reason_for(user(text, "complain", confidence=0.6)) is None


@pytest.mark.parametrize("text", [
    "我不是开玩笑的 再不发货我就投诉你们",
    "你们是在开玩笑吧 我要去12315投诉",
])
def test_a_serious_threat_is_still_a_threat(text):
    assert score_message(text).threat


# ------------------------------------------------------------ a signed-for puzzle solved

@pytest.mark.parametrize("text", [
    "为啥显示签收了 哦原来是我老公拿了 不好意思",
    "显示已签收我还纳闷 是门卫代收的 没事了",
])
def test_a_signed_for_parcel_found_with_family_or_the_doorman_is_no_lost_parcel(text):
    assert text_signals(text).parcel_found
    assert reason_for(user(text, "report_lost_package")) is None


def test_a_signed_for_parcel_still_missing_is_still_lost():
    assert reason_for(user("显示签收了 我问了家里人都没拿到", "report_lost_package")) == "lost_parcel"


# ------------------------------------------------------------ negated fakes and symptoms

@pytest.mark.parametrize("text", [
    "我没买到过假货 就问下这个防伪码怎么扫",
    "孩子吃了没拉肚子 挺好的 再买一箱",
    "我妈用了也没过敏 放心了",
])
def test_a_fake_or_a_symptom_that_did_not_happen_is_no_complaint(text):
    calm_enough(text)


@pytest.mark.parametrize("text", ["我收到假货了", "孩子吃了一直拉肚子", "我妈用了过敏了 脸都红了"])
def test_a_fake_or_a_symptom_that_happened_still_counts(text):
    reading = score_message(text)
    assert reading.safety or reading.score >= HANDOFF


# ------------------------------------------------------------ normal heat, news hearsay

@pytest.mark.parametrize("text", [
    "用的时候机身大概会有多烫 我想放桌上",
    "宝宝误食了干燥剂？不不不 是新闻上说的 我想问你们的零食里有没有干燥剂",
])
def test_a_question_about_normal_heat_or_a_denied_news_story_is_no_safety_report(text):
    assert not score_message(text).safety


@pytest.mark.parametrize("text", ["机身烫得不敢碰了", "宝宝误食了干燥剂 怎么办"])
def test_real_heat_or_a_real_swallowing_is_still_safety(text):
    assert score_message(text).safety


# ------------------------------------------------------------ praise through the complaint channel

def test_asking_for_the_complaint_channel_to_praise_is_no_complaint():
    text = "投诉入口在哪里呀 我想表扬一下昨天那个客服"
    assert reason_for(user(text, "complain", confidence=0.6)) is None


def test_a_complaint_without_praise_is_still_one():
    assert reason_for(user("我要投诉昨天那个客服 态度太差了", "complain")) is not None


# ------------------------------------------------------------ a dedicated person, the agent on duty

@pytest.mark.parametrize("text", [
    "能不能安排專人跟進一下我的訂單",
    "現在還有沒有在線的客服 請他打給我",
    "麻烦让你们负责人联系我",
])
def test_a_dedicated_person_or_the_agent_on_duty_is_a_request_for_a_person(text):
    assert text_signals(text).human_request
    assert reason_for(user(text, "faq")) == "explicit_request"


def test_asking_when_agents_work_is_still_no_request():
    assert reason_for(user("人工客服几点上班", "faq")) is None


# ------------------------------------------------------------ made-up charts, paying for their mistake

@pytest.mark.parametrize("text", [
    "你们这参数是瞎标的吧 换货还要我自己出运费？",
    "详情页瞎写一通 退货还得我掏邮费",
])
def test_information_called_made_up_and_paying_for_it_is_anger(text):
    assert score_message(text).score >= HANDOFF


def test_the_shopper_s_own_guess_is_no_anger():
    calm_enough("尺码我瞎选的 能换大一号吗")


# ------------------------------------------------------------ chargebacks

@pytest.mark.parametrize("text", [
    "再不处理我就让信用卡中心把钱追回来",
    "我已经跟银行申请拒付了",
    "这笔我要走争议交易",
])
def test_a_chargeback_is_a_threat(text):
    assert score_message(text).threat


def test_paying_by_card_is_no_threat():
    calm_enough("可以用信用卡分期付款吗")


# ------------------------------------------------------------ cuts

@pytest.mark.parametrize("text", [
    "拆箱的时候玻璃碎了 我老婆手指被划了好长一道口子",
    "女儿的脚被铁皮划开了 去医院缝了三针",
])
def test_a_cut_to_someone_is_a_safety_report(text):
    assert score_message(text).safety


@pytest.mark.parametrize("text", ["把手上有个口子 能换吗", "枕头套开了个口子"])
def test_a_tear_in_a_thing_is_no_injury(text):
    assert not score_message(text).safety


# ------------------------------------------------------------ charged again

@pytest.mark.parametrize("text", ["月底对账 你们重复扣了一笔", "这单多收了我200块"])
def test_a_payment_taken_again_is_a_double_charge(text):
    assert text_signals(text).double_charge


def test_a_payment_in_two_parts_is_no_double_charge():
    assert not text_signals("我想分两次付款可以吗").double_charge


# ------------------------------------------------------------ refunds short or wrong, tax, quantities

@pytest.mark.parametrize("text", [
    "退了两件 结果少退了一件的钱",
    "我要的是退货退款 结果给我退的是优惠券",
    "价保申请又被驳回了 明明降了50",
    "页面写着包税 现在快递让我补交关税",
    "50箱少了8箱 签收的时候没注意",
    "订了30盒 只收到25盒",
])
def test_refund_price_tax_and_quantity_disputes_go_to_a_person(text):
    assert text_signals(text).dispute
    assert reason_for(user(text, "faq")) is not None


@pytest.mark.parametrize("text", [
    "退货的运费谁出",
    "保价怎么申请",
    "这款是包税的吗",
    "一箱有几瓶",
])
def test_plain_questions_about_refunds_tax_and_quantities_stay_with_the_bot(text):
    assert not text_signals(text).dispute


# ------------------------------------------------------------ another question answered, circles

@pytest.mark.parametrize("text", [
    "我问的是几号能到 不是问发没发货",
    "说来说去还是那几句",
    "跟你聊了半天又回到原点",
])
def test_the_bot_answering_another_question_or_going_round_is_not_helping(text):
    assert text_signals(text).bot_not_helping


def test_a_question_that_names_what_it_is_not_stays_with_the_bot():
    assert not text_signals("不是问运费 想问能不能包邮").bot_not_helping


# ------------------------------------------------------------ three faults, no joiners

@pytest.mark.parametrize("text", [
    "裤子有线头 拉链头掉了 颜色也跟图片不一样",
    "鞋跟断了 颜色也不对",
])
def test_faults_listed_without_joiners_are_several_problems(text):
    assert text_signals(text).multi_issue


def test_one_fault_is_one_problem():
    assert not text_signals("扣子掉了一个 能寄一个给我吗").multi_issue


# ------------------------------------------------------------ no help, the fix already tried

@pytest.mark.parametrize("text", [
    "你这些回复对我一点帮助都没有",
    "你的答复对我毫无帮助",
    "链接点开看了跟没看一样",
    "你给的方法我全试过了 还是不管用",
])
def test_an_answer_that_did_not_help_is_not_helping(text):
    assert text_signals(text).bot_not_helping


@pytest.mark.parametrize("text", ["你的回答对我很有帮助 谢谢", "你说的步骤我试过了 可以了 谢谢"])
def test_help_that_did_help_is_no_complaint(text):
    assert not text_signals(text).bot_not_helping


# ------------------------------------------------------------ charged twice, the shopper unsure

@pytest.mark.parametrize("text", [
    "会员费扣了两次 是我看错了吗",
    "支付宝里有两笔一模一样的 都是今天 金额也一样 可我就下了一单",
])
def test_a_double_charge_asked_about_with_doubt_is_still_one(text):
    assert text_signals(text).double_charge


def test_a_double_charge_the_shopper_withdraws_is_none():
    assert not text_signals("扣了两次 哦我看错了 是两个订单").double_charge


# ------------------------------------------------------------ reproach, an audience and a warning

@pytest.mark.parametrize("text", [
    "跑了两趟快递点 连句道歉都没有 这像话吗",
    "发个坏的过来 你们咋有脸说是全新的",
])
def test_rhetorical_reproach_is_anger(text):
    assert score_message(text).score >= HANDOFF


def test_a_warning_with_an_audience_is_a_threat():
    assert score_message("我有十几万粉丝 你们最好想清楚再回复").threat


def test_a_warning_without_a_lever_is_no_threat():
    assert not score_message("你们想清楚再回复我").threat


# ------------------------------------------------------------ third pass: people of the shop, still lost

def test_talking_to_the_shop_s_people_directly_is_a_request_for_a_person():
    text = "能不能让我跟你们公司的负责人直接对接一下"
    assert text_signals(text).human_request


def test_asking_about_the_shop_s_people_is_no_request():
    assert not text_signals("你们店里的人都是几点下班").human_request


@pytest.mark.parametrize("text", ["看完你的回复我还是不知道怎么操作", "说了半天 我现在还是不知道该怎么办"])
def test_still_not_knowing_what_to_do_is_not_helping(text):
    assert text_signals(text).bot_not_helping


def test_not_knowing_before_asking_is_no_complaint():
    assert not text_signals("第一次买 不知道怎么办理退货").bot_not_helping


def test_being_made_to_accept_is_anger():
    assert score_message("客服这种说法实在令人难以接受").score >= HANDOFF


@pytest.mark.parametrize("text", [
    "退款没到账 补发的也没发 留言也没人理",
    "杯子磕坏了 容量跟页面上写的不一样 快递员还丢在楼下",
])
def test_three_problems_of_different_kinds_are_several(text):
    assert text_signals(text).multi_issue


# Review of the dev7 round: cuts to packaging are not wounds; "a little help" is not "no help".
@pytest.mark.parametrize("text, safety", [
    ("外箱被划了一道口子 里面东西没事", False),
    ("快递盒子划了个大口子 东西倒是好的", False),
    ("孩子被划了一道口子", True),
    ("拆箱的时候手被划了一道口子", True),
])
def test_a_cut_needs_a_body_not_a_box(text, safety):
    assert score_message(text).safety is safety


@pytest.mark.parametrize("text, fires", [
    ("你的回答对我有一点帮助 谢谢", False),
    ("这个回答对我一点帮助都没有", True),
    ("毫无帮助", True),
])
def test_a_little_help_is_not_no_help(text, fires):
    assert bool(text_signals(text, cached_cues()).bot_not_helping) is fires
