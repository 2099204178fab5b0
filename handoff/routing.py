"""Who may get a ticket, and who gets the next offer (pure functions).

Rules:
* only agents who are online (status ``online`` and a heartbeat within the
  presence timeout) receive offers; pulling a ticket only needs a login;
* the agent's skills must include the ticket's skill (tickets with skill
  ``general`` match every agent);
* the agent must have a free slot: capacity minus assigned conversations
  minus offers still pending;
* an agent who let an offer for this ticket expire is skipped until every
  eligible agent has had it (then the round starts again);
* among the rest, the least loaded agent (by share of capacity) wins, then
  the one idle longest, then the lowest id (stable, testable).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .config import GENERAL_SKILL


@dataclass
class AgentLoad:
    id: int
    skills: Sequence[str]
    capacity: int
    active: int = 0  # conversations assigned now
    offered: int = 0  # offers pending now
    online: bool = True
    last_assigned_at: float = 0.0

    @property
    def free_slots(self) -> int:
        return self.capacity - self.active - self.offered


def skill_matches(agent_skills: Iterable[str], ticket_skill: str) -> bool:
    return ticket_skill == GENERAL_SKILL or ticket_skill in set(agent_skills)


def is_online(status: str, last_seen_at: float, now: float, presence_timeout: float) -> bool:
    return status == "online" and now - last_seen_at <= presence_timeout


def eligible(agent: AgentLoad, ticket_skill: str) -> bool:
    return agent.online and agent.free_slots > 0 and skill_matches(agent.skills, ticket_skill)


def choose_agent(ticket_skill: str, declined: Iterable[int], agents: Sequence[AgentLoad]) -> AgentLoad | None:
    """The agent to offer a ticket to next, or None if nobody can take it now."""
    candidates = [a for a in agents if eligible(a, ticket_skill)]
    if not candidates:
        return None
    declined_set = set(declined)
    fresh = [a for a in candidates if a.id not in declined_set]
    pool = fresh or candidates  # everyone declined once: go round again
    return min(pool, key=lambda a: ((a.active + a.offered) / max(a.capacity, 1), a.last_assigned_at, a.id))
