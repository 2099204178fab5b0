"""Settings of the handoff service: environment variables plus settings/handoff.yml.

This is the one place that reads them. Tests build a ``Settings`` directly
(or with ``load_settings(overrides=...)``) so they can shorten timers.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY_FILE = REPO_ROOT / "settings" / "handoff.yml"

SKILLS = ("logistics", "returns", "usage", "orders", "complaints")
GENERAL_SKILL = "general"
LEVELS = ("urgent", "high", "normal", "low")

# Defaults mirror settings/handoff.yml, so the service runs without it.
DEFAULT_POLICY: dict[str, Any] = {
    "priority": {
        "base": 10,
        "reason_weights": {
            "safety": 60, "threat": 60, "double_charge": 60,
            "anger": 35, "complaint": 35, "lost_parcel": 35, "dispute": 35, "refund_overdue": 35,
            "damage_compensation": 35, "multi_issue": 35, "damaged_item": 35,
            "verification_failed": 15, "bot_not_helping": 15, "repeated_misunderstanding": 15,
            "loop": 15, "bot_unavailable": 15, "explicit_request": 15,
        },
        "emotion_weight": 20,
        "vip_weights": {"普通会员": 0, "银卡会员": 5, "金卡会员": 10, "钻石会员": 20},
        "order_value_weight": 15,
        "order_value_cap": 2000,
    },
    "levels": {"urgent": 70, "high": 45, "normal": 25},
    "aging_per_minute": 2,
    "first_response_targets": {"urgent": 30, "high": 60, "normal": 180, "low": 600},
    "routing": {
        "offer_timeout_seconds": 20,
        "silent_agent_seconds": 180,
        "default_capacity": 3,
        "presence_timeout_seconds": 45,
        "estimated_handle_seconds": 240,
        "tick_seconds": 1.0,
    },
    "limits": {
        "max_message_chars": 1000,
        "max_body_bytes": 65536,
        "session_hours": 12,
        "rasa_timeout_seconds": 30,
        "bot_reply_timeout_seconds": 5,
        "shutdown_grace_seconds": 15,
    },
    "rate_limits": {
        "conversation_messages": {"burst": 10, "per_minute": 40},
        "address_messages": {"burst": 200, "per_minute": 1200},
        "address_new_conversations": {"burst": 60, "per_minute": 120},
        "address_logins": {"burst": 10, "per_minute": 10},
        "trusted_proxies": ["127.0.0.1", "::1"],
        "exempt_addresses": ["127.0.0.1", "::1"],
    },
    "demo_agents": [],
    "quick_replies": [],
}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``extra`` into a copy of ``base`` (mappings merge, rest replaces)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@dataclass
class Settings:
    """Everything the service needs to run; one instance per app."""

    db_url: str = "sqlite:///var/handoff.db"
    port: int = 8080
    host: str = "0.0.0.0"
    bot_secret: str = "dev-bot-secret"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = "dev-rasa-token"
    redis_url: str | None = None
    policy: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_POLICY))
    run_dispatcher: bool = True

    # Convenience accessors for the figures used all over the service.
    @property
    def routing(self) -> dict[str, Any]:
        return self.policy["routing"]

    @property
    def limits(self) -> dict[str, Any]:
        return self.policy["limits"]


def load_policy(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the YAML file (if present), then ``overrides``."""
    policy = copy.deepcopy(DEFAULT_POLICY)
    path = path or DEFAULT_POLICY_FILE
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            policy = _merge(policy, yaml.safe_load(fh) or {})
    if overrides:
        policy = _merge(policy, overrides)
    return policy


def load_settings(
    env: Mapping[str, str] | None = None,
    policy_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the environment (KEFU_*) and settings/handoff.yml."""
    env = os.environ if env is None else env
    return Settings(
        db_url=env.get("KEFU_HANDOFF_DB_URL", "sqlite:///var/handoff.db"),
        port=int(env.get("KEFU_HANDOFF_PORT", "8080")),
        host=env.get("KEFU_HANDOFF_HOST", "0.0.0.0"),
        bot_secret=env.get("KEFU_BOT_SECRET", "dev-bot-secret"),
        rasa_url=env.get("KEFU_RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_token=env.get("KEFU_RASA_TOKEN", "dev-rasa-token"),
        redis_url=env.get("KEFU_REDIS_URL") or None,
        policy=load_policy(policy_path, overrides),
    )
