"""Escalation through the running product (issue 5).

Every labelled conversation in data/test/escalation_conversations.yml (never
used for training or for tuning thresholds) is sent turn by turn to the real
Rasa server over the REST channel, with the real action server and handoff
service behind it. Handoffs are read from the agents' queue (GET /api/queue).
"""
from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import requests

from bot.escalation_eval import EscalationCase, load_escalation_set

ROOT = Path(__file__).resolve().parents[2]
LEVEL_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# Issue 5's targets are recall >= 0.95 and false handoffs <= 0.05. Measured on
# 2026-11-23: recall 0.868 (145/167), false handoffs 0.051 (7/136), queue
# order by level >= 0.90 (met). The targets are NOT met yet (issue 5 stays
# open); these floors guard against regressions until they are.
RECALL_FLOOR = 0.84
FALSE_HANDOFF_CEILING = 0.07

pytestmark = pytest.mark.slow


def _queue(stack, token: str) -> list[dict]:
    response = requests.get(f"{stack.handoff_url}/api/queue", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
    response.raise_for_status()
    body = response.json()
    return body["queue"]


@pytest.fixture(scope="module")
def outcome(rasa_stack):
    login = requests.post(f"{rasa_stack.handoff_url}/api/agent/login",
                          json={"username": "chenjing", "password": "kefu123"}, timeout=10)
    login.raise_for_status()
    token = login.json()["token"]
    # Agents go away so every ticket stays in the queue for the ordering check.
    requests.post(f"{rasa_stack.handoff_url}/api/agent/status", json={"status": "away"},
                  headers={"Authorization": f"Bearer {token}"}, timeout=10)
    cases = list(load_escalation_set().conversations)
    handed_at: dict[str, int | None] = {}
    senders: dict[str, EscalationCase] = {}
    for case in cases:
        sender = f"esc-{case.id}-{uuid.uuid4().hex[:6]}"
        senders[sender] = case
        handed_at[case.id] = None
        for turn, text in enumerate(case.turns, start=1):
            reply = requests.post(f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
                                  json={"sender": sender, "message": text}, timeout=30)
            reply.raise_for_status()
            queued = {t["conversation_id"] for t in _queue(rasa_stack, token)}
            if sender in queued:
                handed_at[case.id] = turn
                break
    queue = _queue(rasa_stack, token)
    result = {"cases": cases, "handed_at": handed_at, "queue": queue, "senders": senders}
    _report(result)
    return result


def _report(result) -> None:
    cases, handed_at, queue, senders = (result[k] for k in ("cases", "handed_at", "queue", "senders"))
    by_sender = {t["conversation_id"]: t for t in queue}
    per_category = defaultdict(Counter)
    reasons = defaultdict(Counter)
    levels = defaultdict(Counter)
    for sender, case in senders.items():
        ok = (handed_at[case.id] is not None and handed_at[case.id] <= case.handoff_by_turn) \
            if case.expect_handoff else handed_at[case.id] is None
        per_category[case.category]["ok" if ok else "wrong"] += 1
        ticket = by_sender.get(sender)
        if ticket:
            reasons[case.category][ticket.get("reason")] += 1
            levels[str(case.expected_level)][ticket.get("level")] += 1
    report = {"per_category": per_category, "reasons_by_category": reasons,
              "levels_expected_vs_got": levels,
              "misses": [c.id for c in cases if c.expect_handoff and not (
                  handed_at[c.id] is not None and handed_at[c.id] <= c.handoff_by_turn)],
              "false_handoffs": [c.id for c in cases if not c.expect_handoff and handed_at[c.id] is not None]}
    out = ROOT / "reports" / "escalation.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=dict), "utf-8")


def test_handoff_recall_does_not_regress(outcome):
    must = [c for c in outcome["cases"] if c.expect_handoff]
    caught = [c for c in must if outcome["handed_at"][c.id] is not None
              and outcome["handed_at"][c.id] <= c.handoff_by_turn]
    recall = len(caught) / len(must)
    print(f"\nhandoff recall {recall:.3f} ({len(caught)}/{len(must)})")
    assert recall >= RECALL_FLOOR, [c.id for c in must if c not in caught]


def test_false_handoffs_do_not_regress(outcome):
    must_not = [c for c in outcome["cases"] if not c.expect_handoff]
    wrong = [c for c in must_not if outcome["handed_at"][c.id] is not None]
    rate = len(wrong) / len(must_not)
    print(f"\nfalse handoffs {rate:.3f} ({len(wrong)}/{len(must_not)})")
    assert rate <= FALSE_HANDOFF_CEILING, [c.id for c in wrong]


def test_queue_is_ordered_by_level(outcome):
    expected = {sender: case.expected_level for sender, case in outcome["senders"].items()
                if case.expect_handoff and case.expected_level}
    order = [t["conversation_id"] for t in outcome["queue"] if t["conversation_id"] in expected]
    pairs = correct = 0
    for i, first in enumerate(order):
        for second in order[i + 1:]:
            a, b = LEVEL_RANK[expected[first]], LEVEL_RANK[expected[second]]
            if a != b:
                pairs += 1
                correct += a < b
    share = correct / pairs if pairs else 0.0
    print(f"\nqueue order by level {share:.3f} of {pairs} cross-level pairs")
    assert pairs > 1000 and share >= 0.90


def test_queue_entries_carry_what_agents_need(outcome):
    assert outcome["queue"], "no tickets queued"
    for ticket in outcome["queue"]:
        assert {"conversation_id", "priority", "level", "reason", "waiting_seconds"} <= set(ticket)
