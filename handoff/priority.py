"""The priority formula, levels, aging and first-response targets.

Semantics (also documented in settings/handoff.yml and docs/handoff.md):

* ``priority`` is computed once, when the ticket is created, from the
  features the bot sent (reason, emotion score, VIP tier, order amount).
* ``level`` (urgent/high/normal/low) follows from ``priority`` by thresholds
  and fixes the first-response target.
* Agents get tickets by *effective* priority, highest first, then oldest
  first. Effective priority grows linearly with waiting time
  (``aging_per_minute``), so every ticket eventually reaches the top.
  Because aging is linear, ordering by ``priority + rate * (now - enqueued)``
  is the same as ordering by ``priority - rate * enqueued``: the SQL can sort
  without knowing "now".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class TicketFeatures:
    """What the priority formula looks at."""

    reason: str
    emotion_score: float | None = None
    vip_tier: str | int | None = None
    order_amount: float | None = None


def compute_priority(features: TicketFeatures, policy: Mapping[str, Any]) -> float:
    """Base priority of a ticket; see the formula in settings/handoff.yml."""
    p = policy["priority"]
    score = float(p.get("base", 0))
    score += float(p.get("reason_weights", {}).get(features.reason, 0))
    if features.emotion_score is not None:
        emotion = min(max(float(features.emotion_score), 0.0), 1.0)
        score += float(p.get("emotion_weight", 0)) * emotion
    if features.vip_tier is not None:
        score += float(p.get("vip_weights", {}).get(str(features.vip_tier).lower(), 0))
    if features.order_amount:
        cap = float(p.get("order_value_cap", 0)) or 1.0
        share = min(max(float(features.order_amount), 0.0) / cap, 1.0)
        score += float(p.get("order_value_weight", 0)) * share
    return round(score, 1)


def level_for(priority: float, policy: Mapping[str, Any]) -> str:
    """The level whose threshold ``priority`` reaches first (urgent → normal), else low."""
    levels = policy["levels"]
    for name in ("urgent", "high", "normal"):
        if priority >= float(levels[name]):
            return name
    return "low"


def aging_rate_per_second(policy: Mapping[str, Any]) -> float:
    return float(policy.get("aging_per_minute", 0)) / 60.0


def effective_priority(priority: float, waited_seconds: float, policy: Mapping[str, Any]) -> float:
    """Priority after ``waited_seconds`` in the queue (linear aging)."""
    return priority + aging_rate_per_second(policy) * max(waited_seconds, 0.0)


def first_response_target(level: str, policy: Mapping[str, Any]) -> float:
    """Seconds an agent has for the first reply to a ticket of ``level``."""
    return float(policy["first_response_targets"][level])


def queue_sort_key(priority: float, enqueued_at: float, policy: Mapping[str, Any]) -> tuple[float, float]:
    """Sort key putting the ticket an agent gets next first (see module doc)."""
    return (-(priority - aging_rate_per_second(policy) * enqueued_at), enqueued_at)
