"""A learned second opinion for the escalation rules: which shopper messages a person should take.

Why: the word lists and rules (bot/emotion.py, bot/escalation.py) are precise but only know the
wording they were written from. Replayed untuned on a new development set, they caught 0.70 of
the conversations that needed a person. A logistic regression over character n-grams, trained on
the labelled development conversations, recognises new wordings of the same situations
(拉横幅, 消保官, 你这回答跟没回一样) and raised that to 0.77 at the same false handoffs
(docs/escalation.md, "The learned signal"). It only speaks when it is very sure (the policy's
``model_threshold``) and when no rule has fired; its category names the reason, so the queue
level follows the same priority table.

Training data, read when the NLU is trained:
- the handoff turn of every must-handoff conversation of the labelled sets (``training_sets``)
  with its category (loops are left out: they depend on the conversation, not the message);
- every turn of their must-not conversations, and every NLU example of a routine intent, as
  ``none``.
Output on every parse: ``escalation_model`` = {"score": P(not none), "category", "reason"}.
"""
from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any, Optional

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.escalation_eval import load_escalation_set
from bot import stored_model
from bot.fingerprint import source_digest
from bot.stored_model import JoblibComponent
from bot.textnorm import normalise

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = "escalation_model.joblib"
OUTPUT = "escalation_model"
NONE = "none"
RAW_TEXT = "text_raw"
# The set's category -> the ticket's reason (bot.escalation.REASON_LEVELS gives the level).
CATEGORY_REASONS = {
    "anger": "anger", "threat": "threat", "safety": "safety", "double_charge": "double_charge",
    "complex_case": "complaint", "multi_issue": "multi_issue", "bot_not_helping": "bot_not_helping",
    "explicit_request": "explicit_request",
}


def features_text(raw: str) -> str:
    """The text the model reads: normalised (Simplified, half-width, no spaces) and lower-cased."""
    return normalise(raw or "").text.lower()


def set_files(patterns: list[str], root: Path = ROOT) -> list[Path]:
    """The labelled sets the patterns name (relative to the project), sorted. Never data/test."""
    files = sorted({Path(p) for pattern in patterns for p in glob.glob(str(root / pattern))})
    return [f for f in files if "data/test" not in f.as_posix()]


def labelled_rows(files: list[Path]) -> list[tuple[str, str]]:
    """(message, category or none) from labelled conversation sets."""
    rows: list[tuple[str, str]] = []
    for path in files:
        for case in load_escalation_set(path).conversations:
            if case.expect_handoff:
                if case.category in CATEGORY_REASONS and case.handoff_by_turn:
                    rows.append((case.turns[case.handoff_by_turn - 1], case.category))
            else:
                rows += [(turn, NONE) for turn in case.turns]
    return rows


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EscalationClassifier(JoblibComponent):
    """Adds ``escalation_model`` (score, category, reason) to every parsed message."""

    MODEL_FILE = MODEL_FILE
    MISSING_MODEL = "No trained escalation model in %s; only the rules decide."

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> Optional[str]:
        """Retrain when this code or a labelled set changes (Rasa's cache sees only NLU data)."""
        patterns = config.get("training_sets") or cls.get_default_config()["training_sets"]
        return source_digest(__file__, stored_model.__file__, *set_files(patterns))

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "training_sets": ["data/dev/escalation_dev*.yml"],
            # NLU examples of these intents are not used as "none" (they are handoffs themselves).
            "handoff_intents": ["complain", "request_human", "report_lost_package"],
            "C": 30.0,
            "char_ngrams": [1, 3],
            "max_iter": 3000,
        }

    def train(self, training_data: TrainingData) -> Resource:
        rows = labelled_rows(set_files(list(self._config["training_sets"])))
        skip = set(self._config["handoff_intents"])
        rows += [(m.get(RAW_TEXT) or m.get(TEXT), NONE) for m in training_data.intent_examples
                 if m.get(TEXT) and m.get(INTENT) not in skip]
        if len({label for _, label in rows}) < 2:
            logger.warning("No labelled escalation sets found; the escalation model is skipped.")
            return self._resource
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self._config["char_ngrams"]),
                                     sublinear_tf=True)
        classifier = LogisticRegression(C=float(self._config["C"]), max_iter=int(self._config["max_iter"]),
                                        class_weight="balanced")
        classifier.fit(vectorizer.fit_transform([features_text(t) for t, _ in rows]), [l for _, l in rows])
        self._model = {"vectorizer": vectorizer, "classifier": classifier}
        logger.info("Escalation model trained on %d messages (%d to hand off).",
                    len(rows), sum(label != NONE for _, label in rows))
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        scored = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT)]
        if not scored:
            return messages
        texts = [features_text(m.get(RAW_TEXT) or m.get(TEXT)) for m in scored]
        classifier: LogisticRegression = self._model["classifier"]
        probabilities = classifier.predict_proba(self._model["vectorizer"].transform(texts))
        none_index = list(classifier.classes_).index(NONE)
        for message, row in zip(scored, probabilities):
            others = np.delete(row, none_index)
            names = np.delete(classifier.classes_, none_index)
            category = str(names[int(np.argmax(others))])
            message.set(OUTPUT, {"score": round(float(1.0 - row[none_index]), 4), "category": category,
                                 "reason": CATEGORY_REASONS.get(category, "complaint")}, add_to_output=True)
        return messages
