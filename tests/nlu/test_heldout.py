"""Held-out NLU quality: the figures the product promises (issue 2).

The model is trained once per session (tests/conftest.py::trained_model) and
scored on data/test/nlu_test.yml, which is never used for training. Reports
for trainers land in reports/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluate import Scores, evaluate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scores(trained_model: Path) -> Scores:
    result = evaluate(trained_model, ROOT / "data/test/nlu_test.yml", ROOT / "reports")
    print("\nheld-out:", result.summary())
    return result


def test_test_set_is_large_and_separate_from_training():
    from rasa.shared.nlu.training_data.loading import load_data

    test = {m.get("text") for m in load_data(str(ROOT / "data/test/nlu_test.yml")).intent_examples}
    train = {m.get("text") for m in load_data(str(ROOT / "data/nlu")).intent_examples}
    assert len(test) >= 350
    assert not test & train, f"test examples also in training data: {sorted(test & train)[:5]}"


# Issue 2's target. The intent comes from the linear classifier (bot/linear_intents.py), which
# gives the same result on every training (DIET's intents moved by 1.7 points between seeds,
# so this was a 0.92 regression floor until 2026-11-24).
INTENT_ACCURACY_FLOOR = 0.95


def test_intent_accuracy(scores: Scores):
    assert scores.intent_accuracy >= INTENT_ACCURACY_FLOOR


def test_faq_response_key_accuracy(scores: Scores):
    assert scores.response_key_accuracy >= 0.93


def test_entity_f1(scores: Scores):
    assert scores.entity_f1 >= 0.90


def test_traditional_chinese_is_understood_as_well_as_simplified(scores: Scores):
    assert scores.n_traditional >= 30
    assert scores.intent_accuracy_traditional >= scores.intent_accuracy_simplified - 0.03


def test_reports_for_trainers_are_written(scores: Scores):
    for name in ("intent_report.json", "intent_confusion.csv", "intent_confusion.png", "errors.json"):
        assert (ROOT / "reports" / name).stat().st_size > 0
