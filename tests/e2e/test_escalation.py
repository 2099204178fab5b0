"""Escalation through the running product (issue 5).

Every labelled conversation in data/test/escalation_conversations.yml (never
used for training or for tuning thresholds) is sent turn by turn to the real
Rasa server over the REST channel, with the real action server and handoff
service behind it. Handoffs are read from the agents' queue (GET /api/queue);
bot/escalation_replay.py does the replay and writes reports/escalation-*.json.
"""
from __future__ import annotations

import pytest

from bot.escalation_eval import load_escalation_set
from bot.escalation_replay import Product, replay, write_report

# Issue 5's targets: recall >= 0.95, false handoffs <= 0.05, queue order >= 0.90. History:
# session 2 0.904 / 0.051, session 4 0.922 / 0.051, session 7 0.952 / 0.051, session 8 (learned
# signal, dev sets 6-7, offers instead of handoffs) 0.976 (163/167) / 0.037 (5/136) / 0.976.
RECALL_FLOOR = 0.95
FALSE_HANDOFF_CEILING = 0.05

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outcome(rasa_stack):
    result = replay(list(load_escalation_set().conversations), Product(rasa_stack.rasa_url, rasa_stack.handoff_url))
    write_report(result, "heldout", with_texts=False)  # ids only: its wording must not guide tuning
    return result


def test_handoff_recall_does_not_regress(outcome):
    missed = [c.id for c in outcome.must if not outcome.caught(c)]
    print(f"\nhandoff recall {outcome.recall:.3f} ({len(outcome.must) - len(missed)}/{len(outcome.must)})")
    assert outcome.recall >= RECALL_FLOOR, missed


def test_false_handoffs_do_not_regress(outcome):
    wrong = outcome.false_handoffs
    print(f"\nfalse handoffs {outcome.false_handoff_rate:.3f} ({len(wrong)}/{len(outcome.must_not)})")
    assert outcome.false_handoff_rate <= FALSE_HANDOFF_CEILING, [c.id for c in wrong]


def test_queue_is_ordered_by_level(outcome):
    pairs, correct = outcome.level_order()
    share = correct / pairs if pairs else 0.0
    print(f"\nqueue order by level {share:.3f} of {pairs} cross-level pairs")
    assert pairs > 1000 and share >= 0.90


def test_queue_entries_carry_what_agents_need(outcome):
    assert outcome.queue, "no tickets queued"
    for ticket in outcome.queue:
        assert {"conversation_id", "priority", "level", "reason", "waiting_seconds"} <= set(ticket)
