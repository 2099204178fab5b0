"""Replay labelled escalation conversations through the running product and score them.

Each conversation is sent turn by turn to Rasa's REST channel (with the action
server and handoff service behind it); a handoff is read from the agents' queue
(``GET /api/queue``), the way an agent would see it. Used by the end-to-end test
on the held-out set and by trainers on the development set:

    python -m bot.escalation_replay data/dev/escalation_dev.yml            # starts the product
    python -m bot.escalation_replay SET --rasa-url URL --handoff-url URL   # a running product

The report (per category, misses, false handoffs with the bot's replies and the
ticket's reason) goes to reports/escalation-<set>.json.
"""
from __future__ import annotations

import argparse
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import requests

from bot.escalation_eval import EscalationCase, load_escalation_set

ROOT = Path(__file__).resolve().parents[1]
LEVEL_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


@dataclass
class Outcome:
    """What happened to every case: the turn it was handed off at, the queue at the end."""

    cases: list[EscalationCase]
    handed_at: dict[str, Optional[int]]
    senders: dict[str, EscalationCase]
    queue: list[dict[str, Any]]
    replies: dict[str, list[list[str]]] = field(default_factory=dict)

    def caught(self, case: EscalationCase) -> bool:
        turn = self.handed_at[case.id]
        return turn is not None and case.handoff_by_turn is not None and turn <= case.handoff_by_turn

    @property
    def must(self) -> list[EscalationCase]:
        return [c for c in self.cases if c.expect_handoff]

    @property
    def must_not(self) -> list[EscalationCase]:
        return [c for c in self.cases if not c.expect_handoff]

    @property
    def recall(self) -> float:
        return sum(self.caught(c) for c in self.must) / max(len(self.must), 1)

    @property
    def false_handoffs(self) -> list[EscalationCase]:
        return [c for c in self.must_not if self.handed_at[c.id] is not None]

    @property
    def false_handoff_rate(self) -> float:
        return len(self.false_handoffs) / max(len(self.must_not), 1)

    def level_order(self) -> tuple[int, int]:
        """(cross-level pairs in the queue, pairs in the right order) by the expected levels."""
        expected = {s: c.expected_level for s, c in self.senders.items() if c.expect_handoff and c.expected_level}
        order = [t["conversation_id"] for t in self.queue if t["conversation_id"] in expected]
        pairs = correct = 0
        for i, first in enumerate(order):
            for second in order[i + 1:]:
                a, b = LEVEL_RANK[expected[first]], LEVEL_RANK[expected[second]]
                if a != b:
                    pairs += 1
                    correct += a < b
        return pairs, correct


class Product:
    """The running product's two HTTP entry points, as an agent and as Rasa's REST channel."""

    def __init__(self, rasa_url: str, handoff_url: str, agent: str = "chenjing", password: str = "kefu123") -> None:
        self.rasa_url, self.handoff_url = rasa_url.rstrip("/"), handoff_url.rstrip("/")
        login = requests.post(f"{self.handoff_url}/api/agent/login",
                              json={"username": agent, "password": password}, timeout=10)
        login.raise_for_status()
        self.headers = {"Authorization": f"Bearer {login.json()['token']}"}
        # The agent goes away so every ticket stays in the queue for the ordering check.
        requests.post(f"{self.handoff_url}/api/agent/status", json={"status": "away"},
                      headers=self.headers, timeout=10).raise_for_status()

    def say(self, sender: str, text: str) -> list[str]:
        reply = requests.post(f"{self.rasa_url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=60)
        reply.raise_for_status()
        return [str(m.get("text", "")) for m in reply.json()]

    def queue(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.handoff_url}/api/queue", headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()["queue"]


def replay(cases: list[EscalationCase], product: Product) -> Outcome:
    """Every case in a fresh conversation; stops a case at its first handoff."""
    outcome = Outcome(cases=cases, handed_at={}, senders={}, queue=[])
    for case in cases:
        sender = f"esc-{case.id}-{uuid.uuid4().hex[:6]}"
        outcome.senders[sender] = case
        outcome.handed_at[case.id] = None
        outcome.replies[case.id] = []
        for turn, text in enumerate(case.turns, start=1):
            outcome.replies[case.id].append(product.say(sender, text))
            if sender in {t["conversation_id"] for t in product.queue()}:
                outcome.handed_at[case.id] = turn
                break
    outcome.queue = product.queue()
    return outcome


def report(outcome: Outcome, with_texts: bool = True) -> dict[str, Any]:
    """Per-category results, reasons and levels, and every wrong case (with what was said unless
    ``with_texts`` is False: a held-out set's wording must not guide tuning)."""
    by_sender = {t["conversation_id"]: t for t in outcome.queue}
    per_category: dict[str, Counter] = defaultdict(Counter)
    reasons: dict[str, Counter] = defaultdict(Counter)
    levels: dict[str, Counter] = defaultdict(Counter)
    wrong: list[dict[str, Any]] = []
    for sender, case in outcome.senders.items():
        ok = outcome.caught(case) if case.expect_handoff else outcome.handed_at[case.id] is None
        per_category[case.category]["ok" if ok else "wrong"] += 1
        ticket = by_sender.get(sender)
        if ticket:
            reasons[case.category][ticket.get("reason")] += 1
            levels[str(case.expected_level)][ticket.get("level")] += 1
        if not ok:
            entry = {"id": case.id, "category": case.category, "handed_at": outcome.handed_at[case.id],
                     "reason": ticket.get("reason") if ticket else None}
            if with_texts:
                entry.update(turns=list(case.turns), bot=outcome.replies.get(case.id))
            wrong.append(entry)
    pairs, correct = outcome.level_order()
    return {
        "recall": round(outcome.recall, 3), "false_handoff_rate": round(outcome.false_handoff_rate, 3),
        "must": len(outcome.must), "must_not": len(outcome.must_not),
        "queue_order": round(correct / pairs, 3) if pairs else None, "cross_level_pairs": pairs,
        "per_category": per_category, "reasons_by_category": reasons, "levels_expected_vs_got": levels,
        "wrong": wrong,
    }


def write_report(outcome: Outcome, name: str, with_texts: bool = True) -> Path:
    out = ROOT / "reports" / f"escalation-{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report(outcome, with_texts), ensure_ascii=False, indent=2, default=dict), "utf-8")
    return out


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path, help="a labelled set (bot/escalation_eval.py format)")
    parser.add_argument("--rasa-url", help="a running Rasa server (default: start the product)")
    parser.add_argument("--handoff-url", help="its handoff service")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "kefu.tar.gz",
                        help="the model to start the product with (default models/kefu.tar.gz)")
    parser.add_argument("--ids-only", action="store_true",
                        help="report wrong cases by id only (for held-out sets: their wording must not guide tuning)")
    args = parser.parse_args(argv)
    cases = list(load_escalation_set(args.set).conversations)
    if args.rasa_url and args.handoff_url:
        outcome = replay(cases, Product(args.rasa_url, args.handoff_url))
    else:
        from bench.stack import running_stack  # starts the product on free ports, stops it after

        with running_stack(model=args.model) as stack:
            outcome = replay(cases, Product(stack.rasa_url, stack.handoff_url))
    path = write_report(outcome, args.set.stem, with_texts=not args.ids_only)
    summary = report(outcome)
    print(f"recall {summary['recall']:.3f} ({len(outcome.must) - sum(1 for c in outcome.must if not outcome.caught(c))}"
          f"/{len(outcome.must)})  false handoffs {summary['false_handoff_rate']:.3f} "
          f"({len(outcome.false_handoffs)}/{len(outcome.must_not)})  queue order {summary['queue_order']}")
    for category, counts in sorted(summary["per_category"].items()):
        print(f"  {category:18s} ok {counts['ok']:3d}  wrong {counts['wrong']:3d}")
    print(f"report: {path}")


if __name__ == "__main__":
    main()
