"""Loops, corrections of the bot and several problems at once (the weakest categories in session 2)."""
from __future__ import annotations

from tests.emotion.test_dev_categories import bot, reason_for, user


def conversation(*turns: tuple[str, str] | tuple[str, str, str], answer: str = "utter_faq") -> list[dict]:
    events: list[dict] = []
    for turn in turns:
        text, intent, *key = turn
        events += [user(text, intent, faq_key=key[0] if key else None), bot(answer), bot("action_listen")]
    return events[:-2]


def test_shopper_correcting_the_bot_on_the_second_turn_is_handed_off():
    events = conversation(("可以寄到澳门吗", "faq", "faq/delivery_area"), ("我问澳门，不是台湾", "faq", "faq/delivery_area"))
    assert reason_for(*events) == "bot_not_helping"
    events = conversation(("能寄到学校驿站吗", "faq", "faq/delivery_area"),
                          ("我是问能不能寄到学校的菜鸟驿站，你又给我说运费", "faq", "faq/shipping_fee"))
    assert reason_for(*events) == "bot_not_helping"


def test_the_same_words_as_an_opening_line_are_only_context():
    assert reason_for(user("我问的是退货地址，不是退货流程，地址在哪", "faq", faq_key="faq/return_policy")) is None
    events = conversation(("你好", "greet"), ("我问一下，不是会员也能买吗", "faq", "faq/membership"))
    assert reason_for(*events) is None


def test_a_complaint_about_the_bot_taken_back_stays_with_the_bot():
    text = "不是说你回答没用哈，是我自己没看清楚，退货地址在哪来着"
    assert reason_for(user(text, "faq", faq_key="faq/return_policy")) is None
    assert reason_for(user("这个回答没有解决我的问题", "faq", faq_key="faq/return_policy")) == "bot_not_helping"


def test_follow_up_questions_on_one_topic_are_not_a_loop():
    events = conversation(("发票怎么开", "faq", "faq/invoice"), ("电子发票是发到邮箱吗", "faq", "faq/invoice"),
                          ("那开公司抬头需要税号对吧", "faq", "faq/invoice"))
    assert reason_for(*events) is None


def test_a_question_asked_again_in_words_the_nlu_read_differently_is_a_loop():
    events = conversation(("专票能开吗亲", "faq", "faq/invoice"), ("公司要抵扣，增值税专票可以开不", "faq", "faq/invoice"),
                          ("专票 能不能开 说清楚", "check_order_status"))
    assert reason_for(*events) == "loop"


def test_several_problems_in_one_message():
    assert reason_for(user("吹风机用的时候冒烟了，另外我买的卷发棒也没收到", "report_damaged")) in {"multi_issue", "safety"}
    assert reason_for(user("发票一直没开，赠品也没看到，能一起弄好吗", "faq", faq_key="faq/invoice")) == "multi_issue"
    assert reason_for(user("两个小问题哈：运费多少？几天能发货？", "faq", faq_key="faq/shipping_fee")) is None


def test_the_bot_saying_twice_it_did_not_understand_hands_off_after_its_answer():
    """Vague messages the NLU reads confidently as something (就是那个东西嘛 → inform) still end
    in "能换个说法吗" from the bot; the second such answer in a row goes to a person."""
    first = [user("嗯那个啥来着", "nlu_fallback"), bot("utter_ask_rephrase"), bot("action_listen")]
    second = user("就是那个东西嘛", "inform")
    assert reason_for(*first, second) is None  # the bot has not answered yet
    answered = [*first, second, bot("action_default_fallback"),
                {"event": "bot", "text": "抱歉亲，小美没太明白", "metadata": {"utter_action": "utter_default"}}]
    assert reason_for(*answered) == "repeated_misunderstanding"
    once = [user("就是那个东西嘛", "inform"), bot("action_default_fallback")]
    assert reason_for(*once) is None


def test_a_muddled_answer_to_thanks_is_no_reason_for_a_person():
    events = [user("是满多少包邮来着", "nlu_fallback"), bot("utter_ask_rephrase"), bot("action_listen"),
              user("哦哦看到了，谢谢", "thank"), bot("action_default_fallback"),
              {"event": "bot", "text": "抱歉亲，小美没太明白", "metadata": {"utter_action": "utter_default"}}]
    assert reason_for(*events) is None


def _misread_twice(first: str, second: str) -> list[dict]:
    return [user(first, "nlu_fallback"), bot("utter_ask_rephrase"), bot("action_listen"), user(second, "nlu_fallback")]


def test_taking_the_answer_after_a_misunderstanding_is_not_a_second_one():
    """好的 那我睡前充上: the shopper closes the topic; the bot not placing it needs no person."""
    assert reason_for(*_misread_twice("平时多久要充一次电呀", "好的 那我睡前充上")) is None
    assert reason_for(*_misread_twice("那个赠品是啥", "嗯嗯知道了")) is None
    assert reason_for(*_misread_twice("这个怎么弄", "ok明白")) is None


def test_praise_after_a_misunderstanding_is_not_a_second_one():
    assert reason_for(*_misread_twice("这个怎么弄", "你们服务真好，下次还来买")) is None


def test_an_acknowledgement_that_still_asks_or_objects_counts():
    assert reason_for(*_misread_twice("那个啥来着", "好的 那我的快递呢")) == "repeated_misunderstanding"
    assert reason_for(*_misread_twice("就是那个", "行不行啊")) == "repeated_misunderstanding"
    assert reason_for(*_misread_twice("就是那个", "嗯 我买的东西到现在都还没有发货")) == "repeated_misunderstanding"


def test_praise_read_as_a_request_for_a_person_stays_with_the_bot():
    """你哋啲服務好好呀 (Cantonese praise) was read as request_human because of 服务."""
    assert reason_for(user("你哋啲服務好好呀，下次再嚟幫襯", "request_human")) is None
    assert reason_for(user("服务挺好的，不过还是帮我转个人工吧", "request_human")) == "explicit_request"
    assert reason_for(user("找客服", "request_human")) == "explicit_request"
    assert reason_for(user("human agent please, 谢谢", "request_human")) == "explicit_request"
    assert reason_for(user("麻烦找客服，谢谢", "request_human")) == "explicit_request"
