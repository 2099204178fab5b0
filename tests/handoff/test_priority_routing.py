"""Unit tests: the priority formula, levels, aging, routing and capacity."""
from __future__ import annotations

import pytest

from bot.escalation import REASON_LEVELS, REASON_ORDER
from handoff.config import DEFAULT_POLICY, load_policy
from handoff.priority import (
    TicketFeatures, compute_priority, effective_priority, first_response_target, level_for, queue_sort_key,
)
from handoff.routing import AgentLoad, choose_agent, is_online

POLICY = load_policy()


def test_formula_adds_reason_emotion_vip_and_order_value():
    calm = compute_priority(TicketFeatures("explicit_request"), POLICY)
    assert calm == 25.0  # base 10 + explicit request 15
    furious_vip = compute_priority(TicketFeatures("threat", emotion_score=1.0, vip_tier="钻石会员", order_amount=5000), POLICY)
    assert furious_vip == 10 + 60 + 20 + 20 + 15
    half = compute_priority(TicketFeatures("complaint", emotion_score=0.5, order_amount=1000), POLICY)
    assert half == 10 + 35 + 10 + 7.5


def test_missing_or_odd_features_do_not_break_the_formula():
    assert compute_priority(TicketFeatures("something_new", emotion_score=None, vip_tier="火星会员"), POLICY) == 10
    assert compute_priority(TicketFeatures("complaint", emotion_score=7.0), POLICY) == 10 + 35 + 20  # clamped to 1


# reason -> (calm, anger score 0.8, calm + 钻石会员 + ¥3000 order)
LEVEL_TABLE = {
    "safety": ("urgent", "urgent", "urgent"),
    "threat": ("urgent", "urgent", "urgent"),
    "double_charge": ("urgent", "urgent", "urgent"),
    "anger": ("high", "high", "urgent"),
    "complaint": ("high", "high", "urgent"),
    "lost_parcel": ("high", "high", "urgent"),
    "dispute": ("high", "high", "urgent"),
    "refund_overdue": ("high", "high", "urgent"),
    "damage_compensation": ("high", "high", "urgent"),
    "multi_issue": ("high", "high", "urgent"),
    "damaged_item": ("high", "high", "urgent"),
    "verification_failed": ("normal", "normal", "high"),
    "bot_not_helping": ("normal", "normal", "high"),
    "repeated_misunderstanding": ("normal", "normal", "high"),
    "loop": ("normal", "normal", "high"),
    "bot_unavailable": ("normal", "normal", "high"),
    "explicit_request": ("normal", "normal", "high"),
}


def level(reason: str, score: float | None = None, tier: str | None = None, amount: float | None = None) -> str:
    return level_for(compute_priority(TicketFeatures(reason, score, tier, amount), POLICY), POLICY)


def test_every_reason_the_policy_can_emit_has_a_weight_and_an_intended_level():
    weights = POLICY["priority"]["reason_weights"]
    assert set(REASON_ORDER) <= set(weights), set(REASON_ORDER) - set(weights)
    assert set(REASON_ORDER) <= set(LEVEL_TABLE)
    # The shipped file and the code defaults agree, so the service ranks the same without the file.
    assert DEFAULT_POLICY["priority"]["reason_weights"] == weights
    assert DEFAULT_POLICY["priority"]["emotion_weight"] == POLICY["priority"]["emotion_weight"]


@pytest.mark.parametrize("reason", sorted(LEVEL_TABLE))
def test_level_per_reason_calm_angry_and_vip(reason):
    calm, angry, vip = LEVEL_TABLE[reason]
    if reason in REASON_LEVELS:
        assert REASON_LEVELS[reason] == calm  # what bot/escalation.py means is what the service computes
    assert level(reason) == calm
    assert level(reason, score=0.0) == calm
    assert level(reason, score=0.8) == angry
    assert level(reason, tier="钻石会员", amount=3000) == vip


@pytest.mark.parametrize("reason", [r for r, levels in LEVEL_TABLE.items() if levels[0] == "high"])
def test_an_angry_high_ticket_alone_does_not_jump_to_urgent(reason):
    assert level(reason, score=1.0) == "high"


def test_emotion_raises_priority_within_a_level():
    for reason in LEVEL_TABLE:
        assert compute_priority(TicketFeatures(reason, 0.8), POLICY) > compute_priority(TicketFeatures(reason, 0.2), POLICY)


def test_vip_tier_and_order_value_raise_a_normal_ticket_to_high():
    assert level("explicit_request") == "normal"
    assert level("explicit_request", tier="钻石会员") == "high"
    assert level("explicit_request", tier="金卡会员", amount=2000) == "high"
    assert level("loop", tier="银卡会员", amount=2600) == "high"
    # A small order of an ordinary member changes nothing.
    assert level("explicit_request", tier="普通会员", amount=59) == "normal"


def test_vip_and_order_put_a_calm_vip_request_ahead_of_an_ordinary_one():
    ordinary = compute_priority(TicketFeatures("explicit_request", vip_tier="普通会员", order_amount=99), POLICY)
    vip = compute_priority(TicketFeatures("explicit_request", vip_tier="金卡会员", order_amount=1299), POLICY)
    assert vip > ordinary


def test_levels_follow_thresholds():
    assert level_for(95, POLICY) == "urgent"
    assert level_for(70, POLICY) == "urgent"
    assert level_for(50, POLICY) == "high"
    assert level_for(30, POLICY) == "normal"
    assert level_for(15, POLICY) == "low"
    assert first_response_target("urgent", POLICY) == 30 and first_response_target("low", POLICY) == 600


def test_weights_are_configurable():
    policy = load_policy(overrides={"priority": {"reason_weights": {"explicit_request": 80}}})
    assert level_for(compute_priority(TicketFeatures("explicit_request"), policy), policy) == "urgent"


def test_aging_lets_an_old_low_ticket_overtake_newer_urgent_ones():
    # aging 2 points/minute: a low ticket (15) that waited 40 minutes beats a fresh urgent one (90)
    assert effective_priority(15, 40 * 60, POLICY) == 95
    old_low = queue_sort_key(15, enqueued_at=0, policy=POLICY)
    new_urgent = queue_sort_key(90, enqueued_at=40 * 60, policy=POLICY)
    assert old_low < new_urgent  # sorts first
    recent_low = queue_sort_key(15, enqueued_at=30 * 60, policy=POLICY)
    assert new_urgent < recent_low


def test_equal_priority_goes_oldest_first():
    keys = sorted([(queue_sort_key(40, t, POLICY), t) for t in (300, 100, 200)])
    assert [t for _, t in keys] == [100, 200, 300]


def test_only_online_agents_with_skill_and_free_capacity_get_offers():
    agents = [
        AgentLoad(1, ["returns"], capacity=3),
        AgentLoad(2, ["logistics"], capacity=2, active=2),           # full
        AgentLoad(3, ["logistics"], capacity=3, online=False),       # offline
        AgentLoad(4, ["logistics", "orders"], capacity=3, active=1, offered=1),
    ]
    assert choose_agent("logistics", [], agents).id == 4
    agents[3].offered = 2  # now full too
    assert choose_agent("logistics", [], agents) is None
    assert choose_agent("general", [], agents).id == 1  # general tickets go to anyone


def test_least_loaded_then_longest_idle_wins():
    agents = [AgentLoad(1, ["orders"], 4, active=2), AgentLoad(2, ["orders"], 2, active=0, last_assigned_at=50),
              AgentLoad(3, ["orders"], 2, active=0, last_assigned_at=10)]
    assert choose_agent("orders", [], agents).id == 3


def test_declined_agents_are_skipped_until_everyone_had_the_offer():
    agents = [AgentLoad(1, ["orders"], 2), AgentLoad(2, ["orders"], 2)]
    assert choose_agent("orders", [1], agents).id == 2
    assert choose_agent("orders", [1, 2], agents).id == 1  # round starts again


def test_presence_needs_status_online_and_a_recent_heartbeat():
    assert is_online("online", last_seen_at=100, now=130, presence_timeout=45)
    assert not is_online("online", last_seen_at=100, now=146, presence_timeout=45)
    assert not is_online("away", last_seen_at=100, now=101, presence_timeout=45)
