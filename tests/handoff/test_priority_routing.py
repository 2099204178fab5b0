"""Unit tests: the priority formula, levels, aging, routing and capacity."""
from __future__ import annotations

from handoff.config import load_policy
from handoff.priority import (
    TicketFeatures, compute_priority, effective_priority, first_response_target, level_for, queue_sort_key,
)
from handoff.routing import AgentLoad, choose_agent, is_online

POLICY = load_policy()


def test_formula_adds_reason_emotion_vip_and_order_value():
    calm = compute_priority(TicketFeatures("explicit_request"), POLICY)
    assert calm == 15.0  # base 10 + explicit request 5
    furious_vip = compute_priority(TicketFeatures("threat", emotion_score=1.0, vip_tier="钻石会员", order_amount=5000), POLICY)
    assert furious_vip == 10 + 50 + 30 + 20 + 15
    half = compute_priority(TicketFeatures("complaint", emotion_score=0.5, order_amount=1000), POLICY)
    assert half == 10 + 20 + 15 + 7.5


def test_missing_or_odd_features_do_not_break_the_formula():
    assert compute_priority(TicketFeatures("something_new", emotion_score=None, vip_tier="火星会员"), POLICY) == 10
    assert compute_priority(TicketFeatures("complaint", emotion_score=7.0), POLICY) == 10 + 20 + 30  # clamped to 1


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
