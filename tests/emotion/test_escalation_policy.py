"""EscalationPolicy: hands off when a reason fires, abstains otherwise.

Trackers are built by hand with the project's domain, the way Rasa builds
them at runtime: each shopper message carries the NLU's intent and the
emotion the EmotionScorer measured on it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.emotion import score_message
from bot.escalation import EscalationPolicy
from bot.textnorm import normalise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def make_policy(**config) -> EscalationPolicy:
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    return EscalationPolicy.create({**EscalationPolicy.get_default_config(), **config}, storage,
                                   Resource("escalation"), ExecutionContext(GraphSchema({}), "test"))


@pytest.fixture(scope="module")
def policy() -> EscalationPolicy:
    return make_policy()


def said(text: str, intent: str, confidence: float = 0.92, entities=None, faq_key=None) -> UserUttered:
    """A shopper message as the NLU pipeline leaves it (normalised text + emotion)."""
    parse = {"emotion": score_message(text).as_dict()}
    if faq_key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": faq_key, "confidence": 0.9}}}
    return UserUttered(normalise(text).text, {"name": intent, "confidence": confidence},
                       entities=entities or [], parse_data=parse)


def _last_action(events) -> str | None:
    return next((e.action_name for e in reversed(events) if isinstance(e, ActionExecuted)), None)


def conversation(domain: Domain, *steps) -> DialogueStateTracker:
    """Steps: UserUttered, or action names / events the bot ran after it."""
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for step in steps:
        if isinstance(step, str):
            events.append(ActionExecuted(step))
            if step.startswith("utter_"):
                events.append(BotUttered("…", metadata={"utter_action": step}))
        elif isinstance(step, UserUttered) and _last_action(events) != "action_listen":
            events += [ActionExecuted("action_listen"), step]
        else:
            events.append(step)
    return DialogueStateTracker.from_events("shopper", events, domain.slots)


def predicted(policy: EscalationPolicy, tracker, domain):
    prediction = policy.predict_action_probabilities(tracker, domain)
    if prediction.max_confidence == 0:
        return None, prediction
    return domain.action_names_or_texts[prediction.max_confidence_index], prediction


def reason_of(prediction) -> str | None:
    for event in prediction.optional_events:
        if isinstance(event, SlotSet) and event.key == "handoff_reason":
            return event.value
    return None


@pytest.mark.parametrize("text,intent,reason", [
    ("什么破快递，垃圾！气死我了", "track_shipment", "anger"),
    ("再不给我退款我就打12315", "check_refund_status", "threat"),
    ("电热水壶底座冒烟了，差点起火", "report_damaged", "safety"),
    ("一个订单被扣了两次钱", "check_order_status", "double_charge"),
    ("显示已签收但是我根本没收到", "report_lost_package", "lost_parcel"),
    ("快递丢了吧，一直没动", "report_lost_package", "lost_parcel"),
    ("杯子碎了，我要求赔偿", "report_damaged", "damage_compensation"),
    ("说好3个工作日到账，现在都十天了还没收到退款", "check_refund_status", "refund_overdue"),
    ("我要投诉你们", "complain", "complaint"),
    ("转人工", "request_human", "explicit_request"),
    ("颜色发错了，而且少发了一件，快递还晚了三天还没到", "report_damaged", "multi_issue"),
    ("你这回答没用，答非所问", "out_of_scope", "bot_not_helping"),
    ("我问的不是这个", "faq", "bot_not_helping"),
])
def test_hands_off_right_after_the_message_with_the_reason(policy, domain, text, intent, reason):
    tracker = conversation(domain, said(text, intent))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff", (text, prediction.diagnostic_data)
    assert reason_of(prediction) == reason
    assert prediction.policy_priority == 7 and prediction.max_confidence == 1.0


@pytest.mark.parametrize("text,intent", [
    ("快递怎么还没到呀，急用", "track_shipment"),
    ("能快点吗", "urge_shipment"),
    ("什么时候能到啊，有点着急", "track_shipment"),
    ("收到的杯子碎了", "report_damaged"),
    ("我要退货", "request_return"),
    ("退款多久到账", "faq"),
    ("我不生气，就问问能不能换颜色", "request_exchange"),
    ("质量真好，给你们好评", "thank"),
    ("不是投诉，想问下发票怎么开", "faq"),
    ("这个东西我还没用过能退吗", "request_return"),
    ("吹风机会不会漏电啊", "ask_product_usage"),
])
def test_abstains_on_routine_and_mildly_impatient_messages(policy, domain, text, intent):
    tracker = conversation(domain, said(text, intent))
    action, prediction = predicted(policy, tracker, domain)
    assert action is None, (text, prediction.diagnostic_data)
    assert all(p == 0.0 for p in prediction.probabilities)


def test_two_misunderstandings_in_a_row_hand_off(policy, domain):
    one = conversation(domain, said("那个东西呢", "nlu_fallback", 0.3))
    assert predicted(policy, one, domain)[0] is None
    two = conversation(domain, said("那个东西呢", "nlu_fallback", 0.3), "utter_ask_rephrase",
                       said("就是上次那个", "nlu_fallback", 0.3))
    action, prediction = predicted(policy, two, domain)
    assert action == "action_handoff" and reason_of(prediction) == "repeated_misunderstanding"


def test_confident_but_unanswerable_messages_count_as_misunderstandings(policy, domain):
    """DIET may put a vague message into faq with confidence; the bot then asks to rephrase."""
    vague = UserUttered("那啥", {"name": "faq", "confidence": 0.99}, parse_data={
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/size_guide",
                                                   "confidence": 0.12}}}})
    first = conversation(domain, said("就那个东西", "faq", 0.98), "action_answer_faq", "utter_ask_rephrase", vague)
    action, prediction = predicted(policy, first, domain)
    assert action == "action_handoff" and reason_of(prediction) == "repeated_misunderstanding"


def test_a_clear_question_after_a_misunderstanding_stays_with_the_bot(policy, domain):
    tracker = conversation(domain, said("就那个东西", "faq", 0.98), "action_answer_faq", "utter_ask_rephrase",
                           said("运费多少钱", "faq", 0.99, faq_key="faq/shipping_fee"))
    assert predicted(policy, tracker, domain)[0] is None


def test_accepting_the_offer_of_a_human_hands_off(policy, domain):
    tracker = conversation(domain, said("那个东西呢", "nlu_fallback", 0.3), "utter_offer_human", said("好的", "affirm"))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(prediction) == "repeated_misunderstanding"


def test_the_same_request_three_times_is_a_loop(policy, domain):
    steps = [said("快递到哪了", "track_shipment"), "action_track_shipment",
             said("我问快递到哪了", "track_shipment"), "action_track_shipment"]
    assert predicted(policy, conversation(domain, *steps), domain)[0] is None
    tracker = conversation(domain, *steps, said("到底到哪了", "track_shipment"))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(prediction) == "loop"


def test_three_different_orders_are_not_a_loop(policy, domain):
    steps = []
    for order in ("3829104857263541", "3829104857263542", "3829104857263543"):
        steps += [said(f"查下订单{order}", "check_order_status",
                       entities=[{"entity": "order_id", "value": order, "start": 3, "end": 19}]),
                  "action_check_order_status"]
    assert predicted(policy, conversation(domain, *steps[:-1]), domain)[0] is None


def test_different_faq_questions_are_not_a_loop(policy, domain):
    tracker = conversation(domain, said("运费多少", "faq", faq_key="faq/shipping_fee"), "action_answer_faq",
                           said("多久发货", "faq", faq_key="faq/ship_time"), "action_answer_faq",
                           said("能开发票吗", "faq", faq_key="faq/invoice"))
    assert predicted(policy, tracker, domain)[0] is None


def test_locked_verification_leaves_the_offer_of_a_human_to_the_rules(policy, domain):
    """Issue 3: three failed tries end in the *offer* of a human, not a handoff."""
    tracker = conversation(domain, said("尾号是1234", "inform"), "verify_order_form",
                           SlotSet("verification_locked", True))
    assert predicted(policy, tracker, domain)[0] is None


def test_failed_verification_reported_by_an_action_hands_off_after_that_action(policy, domain):
    tracker = conversation(domain, said("尾号是1234", "inform"), "action_verify_buyer",
                           SlotSet("verification_failed", True))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(prediction) == "verification_failed"


def test_an_action_can_ask_for_a_handoff_by_setting_the_reason(policy, domain):
    tracker = conversation(domain, said("我的退款呢", "check_refund_status"), "action_check_refund",
                           SlotSet("handoff_reason", "refund_overdue"))
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(prediction) == "refund_overdue"


def test_after_an_ordinary_action_it_abstains(policy, domain):
    tracker = conversation(domain, said("快递到哪了", "track_shipment"), "action_track_shipment")
    assert predicted(policy, tracker, domain)[0] is None


def test_counting_starts_again_after_a_handoff(policy, domain):
    tracker = conversation(domain, said("那个东西呢", "nlu_fallback", 0.3), "utter_ask_rephrase",
                           said("就是那个", "nlu_fallback", 0.3), "action_handoff",
                           said("谢谢客服，解决了", "thank"))
    assert predicted(policy, tracker, domain)[0] is None


def test_a_stale_reason_is_cleared_when_it_abstains(policy, domain):
    tracker = conversation(domain, SlotSet("handoff_reason", "anger"), said("运费多少", "faq"))
    action, prediction = predicted(policy, tracker, domain)
    assert action is None
    assert SlotSet("handoff_reason", None) in prediction.events


def test_the_most_serious_reason_is_reported(policy, domain):
    tracker = conversation(domain, said("垃圾店铺扣了我两次钱，再不退我就报警", "complain"))
    action, prediction = predicted(policy, tracker, domain)
    assert reason_of(prediction) == "threat"
    signals = prediction.diagnostic_data["escalation"]["signals"]
    assert any(s.startswith("double_charge") for s in signals) and any(s.startswith("anger") for s in signals)


def test_thresholds_are_configurable(domain):
    text = "都三天了还没发货，你们到底怎么回事！！！"
    tracker = conversation(domain, said(text, "urge_shipment"))
    assert predicted(make_policy(anger_threshold=0.9), tracker, domain)[0] is None
    assert predicted(make_policy(anger_threshold=0.4), tracker, domain)[0] == "action_handoff"
    fallback = conversation(domain, said("啥", "nlu_fallback", 0.2), "utter_ask_rephrase", said("嗯？", "nlu_fallback", 0.2))
    assert predicted(make_policy(fallbacks_in_a_row=0), fallback, domain)[0] is None


def test_without_emotion_in_the_parse_result_it_scores_the_text_itself(policy, domain):
    message = UserUttered("垃圾客服，气死我了！！！", {"name": "complain", "confidence": 0.9})
    tracker = conversation(domain, message)
    action, prediction = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(prediction) == "anger"


def test_it_wins_over_rule_policy_on_a_tie(policy):
    assert policy.priority > 6


def test_train_persists_and_load_restores_the_settings(domain):
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    resource = Resource("escalation")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**EscalationPolicy.get_default_config(), "anger_threshold": 0.7}
    trained = EscalationPolicy.create(config, storage, resource, context)
    assert trained.train([], domain) == resource
    loaded = EscalationPolicy.load(config, storage, resource, context)
    assert loaded.settings.anger_threshold == 0.7


def _form_happy_path_prediction(domain: Domain, form: str):
    """What RulePolicy predicts while a form is active: the form, as a no-user prediction."""
    from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
    return PolicyPrediction(confidence_scores_for(form, 1.0, domain), "RulePolicy", policy_priority=6,
                            is_no_user_prediction=True)


def test_a_threat_during_an_active_form_wins_over_the_form(policy, domain):
    """The verification form asks for the order number; the shopper threatens instead."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
    from rasa.shared.core.events import ActiveLoop
    tracker = conversation(domain, said("查一下我的订单", "check_order_status"), "verify_order_form",
                           ActiveLoop("verify_order_form"), SlotSet("requested_slot", "order_id"),
                           said("再不给我处理我就去12315投诉你们！", "inform", 0.55))
    assert tracker.active_loop_name == "verify_order_form"
    action, ours = predicted(policy, tracker, domain)
    assert action == "action_handoff" and reason_of(ours) == "threat"
    assert ours.is_no_user_prediction
    memo = PolicyPrediction(confidence_scores_for("action_listen", 1.0, domain), "MemoizationPolicy",
                            policy_priority=3)
    rule = _form_happy_path_prediction(domain, "verify_order_form")
    best = DefaultPolicyPredictionEnsemble().combine_predictions([memo, rule, ours], tracker, domain)
    assert domain.action_names_or_texts[best.max_confidence_index] == "action_handoff"
    assert best.policy_name == "EscalationPolicy"
    assert any(isinstance(e, SlotSet) and e.value == "threat" for e in best.events)


def test_when_it_abstains_during_a_form_the_form_continues(policy, domain):
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.shared.core.events import ActiveLoop
    tracker = conversation(domain, said("查一下我的订单", "check_order_status"), "verify_order_form",
                           ActiveLoop("verify_order_form"), SlotSet("requested_slot", "order_id"),
                           said("订单号是20240518001", "inform"))
    action, ours = predicted(policy, tracker, domain)
    assert action is None and not ours.is_no_user_prediction
    rule = _form_happy_path_prediction(domain, "verify_order_form")
    best = DefaultPolicyPredictionEnsemble().combine_predictions([rule, ours], tracker, domain)
    assert domain.action_names_or_texts[best.max_confidence_index] == "verify_order_form"


@pytest.mark.parametrize("text, intent, answer", [
    ("不想投诉，就是提个建议，包装可以再结实一点", "complain", "action_answer_faq"),
    ("没丢没丢，快递在门卫那找到了，虚惊一场哈哈", "report_lost_package", "action_track_shipment"),
    ("不用转人工，我自己看看就行", "request_human", "action_answer_faq"),
])
def test_a_handoff_intent_the_text_does_not_back_is_answered_not_handed_off(policy, domain, text, intent, answer):
    # RulePolicy maps these intents straight to action_handoff; the policy must overrule it.
    action, _ = predicted(policy, conversation(domain, said(text, intent)), domain)
    assert action == answer


def test_a_lost_parcel_said_in_words_still_goes_to_a_person(policy, domain):
    action, prediction = predicted(policy, conversation(domain, said("快递显示签收了但我根本没收到", "report_lost_package")), domain)
    assert action == "action_handoff" and reason_of(prediction) == "lost_parcel"
