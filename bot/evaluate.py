"""Evaluate a trained model on the held-out NLU test set, as shoppers see it.

Unlike `rasa test nlu`, which scores each entity extractor separately, this
scores the final parse result (after catalogue canonicalisation and merging),
and splits the figures by Simplified vs Traditional examples. It writes the
per-intent report, the confusion matrix and every error to reports/.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc

from bot.catalogue import load_catalogue
from bot.textnorm import normalise

RETRIEVAL_INTENT = "faq"


@dataclass
class Example:
    text: str
    intent: str
    response_key: str | None
    entities: list[tuple[str, str]]

    @property
    def traditional(self) -> bool:
        return opencc.OpenCC("t2s").convert(self.text) != self.text


@dataclass
class Prediction:
    intent: str
    confidence: float
    response_key: str | None
    entities: list[tuple[str, str]]
    seconds: float


@dataclass
class Scores:
    """Headline figures plus the material for the reports."""

    intent_accuracy: float
    intent_accuracy_simplified: float
    intent_accuracy_traditional: float
    response_key_accuracy: float
    entity_precision: float
    entity_recall: float
    entity_f1: float
    n_examples: int
    n_traditional: int
    latency_p50_ms: float
    latency_p95_ms: float
    errors: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"}


def load_examples(path: str | Path) -> list[Example]:
    """Read a Rasa NLU YAML file; product/carrier values become canonical."""
    from rasa.shared.nlu.training_data.loading import load_data

    catalogue = load_catalogue()
    examples = []
    for message in load_data(str(path)).intent_examples:
        full = message.get("intent_response_key") or message.get("intent")
        intent, _, key = full.partition("/")
        gold = []
        for entity in message.get("entities") or []:
            value = str(entity["value"])
            value = (catalogue.canonical(entity["entity"], value)
                     or catalogue.canonical(entity["entity"], normalise(value).text)
                     or normalise(value).text)
            gold.append((entity["entity"], value))
        examples.append(Example(message.get("text"), intent, full if key else None, gold))
    return examples


async def predict(agent: Any, examples: list[Example]) -> list[Prediction]:
    predictions = []
    for example in examples:
        start = time.perf_counter()
        parsed = await agent.parse_message(example.text)
        elapsed = time.perf_counter() - start
        selector = (parsed.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        entities = [(e["entity"], str(e["value"])) for e in parsed.get("entities") or []]
        intent = parsed.get("intent") or {}
        predictions.append(
            Prediction(intent.get("name") or "", intent.get("confidence") or 0.0, key, entities, elapsed)
        )
    return predictions


def _accuracy(pairs: list[tuple[Example, Prediction]]) -> float:
    return sum(e.intent == p.intent for e, p in pairs) / len(pairs) if pairs else 1.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def score(examples: list[Example], predictions: list[Prediction]) -> Scores:
    """Compute intent, response-key and entity figures."""
    pairs = list(zip(examples, predictions))
    faq = [(e, p) for e, p in pairs if e.response_key]
    tp = fp = fn = 0
    errors = []
    for e, p in pairs:
        gold, found = Counter(e.entities), Counter(p.entities)
        hit = sum((gold & found).values())
        tp, fp, fn = tp + hit, fp + sum(found.values()) - hit, fn + sum(gold.values()) - hit
        wrong_key = e.response_key is not None and p.response_key != e.response_key
        if e.intent != p.intent or wrong_key or gold != found:
            errors.append({
                "text": e.text, "intent": e.intent, "predicted": p.intent,
                "confidence": round(p.confidence, 3), "response_key": e.response_key,
                "predicted_response_key": p.response_key,
                "entities": e.entities, "predicted_entities": p.entities,
            })
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    latencies = [p.seconds for p in predictions]
    return Scores(
        intent_accuracy=_accuracy(pairs),
        intent_accuracy_simplified=_accuracy([(e, p) for e, p in pairs if not e.traditional]),
        intent_accuracy_traditional=_accuracy([(e, p) for e, p in pairs if e.traditional]),
        response_key_accuracy=sum(e.response_key == p.response_key for e, p in faq) / len(faq) if faq else 1.0,
        entity_precision=precision,
        entity_recall=recall,
        entity_f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        n_examples=len(pairs),
        n_traditional=sum(e.traditional for e in examples),
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p95_ms=_percentile(latencies, 0.95),
        errors=errors,
    )


def write_reports(examples: list[Example], predictions: list[Prediction], scores: Scores,
                  out: Path) -> None:
    """Per-intent report, confusion matrix (CSV + PNG) and errors for trainers."""
    from sklearn.metrics import classification_report, confusion_matrix

    out.mkdir(parents=True, exist_ok=True)
    gold = [e.intent for e in examples]
    pred = [p.intent for p in predictions]
    labels = sorted(set(gold) | set(pred))
    report = classification_report(gold, pred, labels=labels, output_dict=True, zero_division=0)
    (out / "intent_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), "utf-8")
    faq = [(e.response_key, p.response_key or "none") for e, p in zip(examples, predictions) if e.response_key]
    if faq:
        rs = classification_report([g for g, _ in faq], [p for _, p in faq], output_dict=True, zero_division=0)
        (out / "response_selection_report.json").write_text(json.dumps(rs, ensure_ascii=False, indent=2), "utf-8")
    matrix = confusion_matrix(gold, pred, labels=labels)
    rows = ["gold\\predicted," + ",".join(labels)]
    rows += [f"{label}," + ",".join(str(v) for v in row) for label, row in zip(labels, matrix)]
    (out / "intent_confusion.csv").write_text("\n".join(rows) + "\n", "utf-8")
    _plot_confusion(matrix, labels, out / "intent_confusion.png")
    (out / "errors.json").write_text(json.dumps(scores.errors, ensure_ascii=False, indent=2), "utf-8")
    (out / "summary.json").write_text(json.dumps(scores.summary(), indent=2), "utf-8")


def _plot_confusion(matrix: Any, labels: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 10))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate(model: str | Path, test_file: str | Path, reports: str | Path | None = "reports") -> Scores:
    """Load ``model``, parse every example of ``test_file``, score, write reports."""
    from rasa.core.agent import Agent

    examples = load_examples(test_file)
    agent = Agent.load(str(model))
    predictions = asyncio.run(predict(agent, examples))
    scores = score(examples, predictions)
    if reports:
        write_reports(examples, predictions, scores, Path(reports))
    return scores
