"""Dialogue rules checked without a trained model: a deny inside return_form/exchange_form, and a
short follow-up after an FAQ answer.

RulePolicy alone is trained in memory on domain.yml + data/stories (it raises on incomplete or
contradicting rules, as `rasa train` would) and asked what comes next in the conversations
action_form_deny (actions/form_deny.py) produces: a refusal ends the form with
utter_anything_else, an answer goes back to the form, which asks on or is submitted.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORMS = [("return_form", "return_reason", "return_confirmed", "action_submit_return", "request_return"),
         ("exchange_form", "exchange_option", "exchange_confirmed", "action_submit_exchange", "request_exchange")]


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """(policy, domain): RulePolicy trained in memory; nothing is written to models/."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.importers.importer import TrainingDataImporter

    logging.getLogger("rasa").setLevel(logging.WARNING)
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data/stories")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    policy = RulePolicy.create({**RulePolicy.get_default_config(), "enable_fallback_prediction": True},
                               LocalModelStorage(tmp_path_factory.mktemp("rules")), Resource("rules"),
                               ExecutionContext(GraphSchema({}), "rule-check"))
    policy.train(trackers, domain)
    return policy, domain


def next_action(rules, events: List) -> Optional[str]:
    from rasa.shared.core.trackers import DialogueStateTracker

    policy, domain = rules
    tracker = DialogueStateTracker.from_events("shopper", events, domain.slots)
    probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return domain.action_names_or_texts[best] if probabilities[best] > 0.5 else None


def asked(form: str, slot: str, request: str, message: str, intent: str) -> List:
    """A conversation in ``form`` whose question ``slot`` was just answered with ``message``."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered

    return [ActionExecuted("action_listen"), UserUttered("我要退换货", {"name": request, "confidence": 1.0}),
            ActionExecuted(f"action_{request}"), ActiveLoop(form), ActionExecuted(form),
            SlotSet("requested_slot", slot), ActionExecuted("action_listen"),
            UserUttered(message, {"name": intent, "confidence": 0.92})]


@pytest.mark.parametrize("form,slot,confirm,submit,start", FORMS)
def test_deny_answering_the_question_goes_back_to_the_form(rules, form, slot, confirm, submit, start):
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet

    events = asked(form, slot, start, "不喜欢了", "deny")
    assert next_action(rules, events) == form
    events.append(ActionExecutionRejected(form))  # deny fills nothing: the form rejects
    assert next_action(rules, events) == "action_form_deny"
    events += [ActionExecuted("action_form_deny"), SlotSet(slot, "不喜欢了"), ActiveLoop(form)]
    assert next_action(rules, events) == form
    assert next_action(rules, events[:-1]) == form  # also by the rule alone
    asks_on = events + [ActionExecuted(form), SlotSet("requested_slot", confirm)]
    assert next_action(rules, asks_on) == "action_listen"
    refused = events + [ActionExecuted(form), SlotSet("requested_slot", None), ActiveLoop(None)]
    assert next_action(rules, refused) == submit


@pytest.mark.parametrize("form,slot,confirm,submit,start", FORMS)
def test_bare_refusal_ends_the_form(rules, form, slot, confirm, submit, start):
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, SlotSet

    events = asked(form, slot, start, "算了不退了", "deny") + [ActionExecutionRejected(form)]
    events += [ActionExecuted("action_form_deny"), ActiveLoop(None), SlotSet("requested_slot", None)]
    assert next_action(rules, events) == "utter_anything_else"
    assert next_action(rules, events + [ActionExecuted("utter_anything_else")]) == "action_listen"


@pytest.mark.parametrize("form,slot,confirm,submit,start", FORMS)
def test_deny_at_confirmation_is_still_a_no(rules, form, slot, confirm, submit, start):
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet

    events = asked(form, confirm, start, "不用了", "deny") + [SlotSet(confirm, False)]
    assert next_action(rules, events) == form
    events += [ActionExecuted(form), SlotSet("requested_slot", None), ActiveLoop(None)]
    assert next_action(rules, events) == submit


def test_a_follow_up_read_as_inform_after_an_faq_answer_goes_back_to_the_faq_action(rules):
    """空气炸锅几天发货 → 电饭煲呢 (inform): action_answer_faq decides whether it is a follow-up."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    faq = [ActionExecuted("action_listen"), UserUttered("空气炸锅几天发货", {"name": "faq", "confidence": 1.0}),
           ActionExecuted("action_answer_faq"), ActionExecuted("action_listen"),
           UserUttered("电饭煲呢", {"name": "inform", "confidence": 0.99})]
    assert next_action(rules, faq) == "action_answer_faq"
    # Outside that moment an inform is not an FAQ question.
    alone = [ActionExecuted("action_listen"), UserUttered("电饭煲呢", {"name": "inform", "confidence": 0.99})]
    assert next_action(rules, alone) != "action_answer_faq"
