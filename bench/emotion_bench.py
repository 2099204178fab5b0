"""Emotion scoring latency: µs per message for the scorer alone and with normalisation.

Run: .venv/bin/python bench/emotion_bench.py [rounds]
Messages are the development examples of tests/emotion (calm, impatient, angry).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.emotion import score_text
from bot.escalation_cues import text_signals
from bot.textnorm import normalise
from tests.emotion.test_emotion_scorer import ANGRY, CALM, MILD

LONG = "亲，我上周五下的单，说好48小时发货，结果等了五天才发，到了以后杯子碎了两个，客服一直不回，" * 3


def per_message(fn, items, rounds: int) -> list[float]:
    runs = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append((time.perf_counter() - start) / len(items) * 1e6)
    return runs


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    raw = CALM + MILD + ANGRY
    pairs = [(normalise(t).text, t) for t in raw]
    score_text(*pairs[0])  # load the word lists once
    text_signals(pairs[0][0])
    rows = [
        ("score_text (normalised input)", per_message(lambda p: score_text(p[0], p[1]), pairs, rounds)),
        ("normalise + score_text", per_message(lambda t: score_text(normalise(t).text, t), raw, rounds)),
        ("escalation text_signals", per_message(lambda p: text_signals(p[0]), pairs, rounds)),
        (f"score_text, {len(LONG)}-char message", per_message(lambda t: score_text(t, t), [normalise(LONG).text], rounds)),
    ]
    print(f"{len(raw)} messages x {rounds} rounds")
    for name, runs in rows:
        print(f"{name:40s} median {statistics.median(runs):7.1f} µs/msg   p95 {sorted(runs)[int(0.95 * len(runs))]:7.1f}")


if __name__ == "__main__":
    main()
