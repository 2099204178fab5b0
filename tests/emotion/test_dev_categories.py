"""Development set for the handoff detector, by category (tests/emotion/dev_escalation_cases.yml).

Written here for tuning: varied shopper wording, Traditional, typos. Single
messages go through the normaliser, the emotion scorer and ``decide`` as the
policy sees them; the multi-turn cases (misunderstandings, loops) are below.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.emotion import score_message
from bot.escalation import EscalationSettings, conversation_view, decide
from bot.textnorm import normalise

CASES = yaml.safe_load((Path(__file__).with_name("dev_escalation_cases.yml")).read_text(encoding="utf-8"))
EXPECTED = {"safety": {"safety"}, "double_charge": {"double_charge"},
            "multi_issue": {"multi_issue", "refund_overdue", "anger", "complaint"},
            "bot_not_helping": {"bot_not_helping", "anger"}, "anger": {"anger", "threat"},
            "complex_case": {"dispute", "damage_compensation", "refund_overdue", "lost_parcel"},
            "explicit_request": {"explicit_request"}}


def user(text: str, intent: str, confidence: float = 0.9, faq_key: str | None = None) -> dict:
    parse = {"intent": {"name": intent, "confidence": confidence},
             "emotion": score_message(text).as_dict()}
    if faq_key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": faq_key}}}
    return {"event": "user", "text": normalise(text).text, "parse_data": parse}


def reason_for(*events) -> str | None:
    decision = decide(conversation_view(list(events)), EscalationSettings())
    return decision.reason if decision else None


def _params(section: str):
    return [pytest.param(cat, text, intent, id=f"{cat}:{text}")
            for cat, items in CASES[section].items() for text, intent in (items or [])]


@pytest.mark.parametrize("category,text,intent", _params("handoff"))
def test_hands_off_with_the_right_reason(category, text, intent):
    assert reason_for(user(text, intent)) in EXPECTED[category]


@pytest.mark.parametrize("category,text,intent", _params("calm"))
def test_stays_with_the_bot(category, text, intent):
    assert reason_for(user(text, intent)) is None


def bot(action: str = "utter_default") -> dict:
    return {"event": "action", "name": action}


@pytest.mark.parametrize("first,second", [
    (("就是那个", "out_of_scope"), ("asdfghjkl", "out_of_scope")),
    (("wo de kuai di ne", "out_of_scope"), ("nage dongxi", "nlu_fallback")),
    (("嗯那个啥", "nlu_fallback"), ("jjjjjj", "out_of_scope")),
])
def test_two_misunderstandings_in_a_row_including_out_of_scope(first, second):
    events = [user(*first), bot("utter_out_of_scope"), bot("action_listen"), user(*second)]
    assert reason_for(*events) == "repeated_misunderstanding"


def test_one_out_of_scope_then_a_real_question_is_fine():
    events = [user("今天天气怎么样", "out_of_scope"), bot("utter_out_of_scope"), bot("action_listen"),
              user("运费多少", "faq", faq_key="faq/shipping_fee")]
    assert reason_for(*events) is None


def test_the_same_faq_three_times_with_answers_between_is_a_loop():
    texts = ["运费多少", "包邮吗", "到底要不要运费"]
    events = []
    for text in texts:
        events += [user(text, "faq", faq_key="faq/shipping_fee"), bot("utter_faq"), bot("action_listen")]
    assert reason_for(*events[:-2]) == "loop"


def test_the_same_order_question_in_three_wordings_is_a_loop():
    turns = [("我的快递到哪了", "track_shipment"), ("包裹现在在哪里", "track_shipment"),
             ("物流到底到哪了", "track_shipment")]
    events = []
    for text, intent in turns:
        events += [user(text, intent), bot("action_track_shipment"), bot("action_listen")]
    assert reason_for(*events[:-2]) == "loop"


def test_three_different_faqs_are_not_a_loop():
    # Three different questions (the same text three times with three answers would be a loop).
    asked = [("运费多少", "faq/shipping_fee"), ("七天无理由怎么算", "faq/return_policy"), ("发票怎么开", "faq/invoice")]
    events = []
    for text, key in asked:
        events += [user(text, "faq", faq_key=key), bot("utter_faq"), bot("action_listen")]
    assert reason_for(*events[:-2]) is None


def figures() -> dict[str, tuple[int, int]]:
    """caught/total per category (python -m tests.emotion.test_dev_categories)."""
    out = {}
    for section in ("handoff", "calm"):
        for cat, items in CASES[section].items():
            items = items or []
            if section == "handoff":
                ok = sum(reason_for(user(t, i)) in EXPECTED[cat] for t, i in items)
            else:
                ok = sum(reason_for(user(t, i)) is None for t, i in items)
            out[f"{section}/{cat}"] = (ok, len(items))
    return out


if __name__ == "__main__":
    for name, (ok, n) in figures().items():
        print(f"{name:32s} {ok}/{n}")
