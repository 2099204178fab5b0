"""The action server must be able to load every action (as `rasa run actions` does)."""
from __future__ import annotations

import yaml
from rasa_sdk.executor import ActionExecutor

from actions.policy import REPO_ROOT


def test_every_custom_action_in_the_domain_is_registered():
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    custom = [a for a in domain["actions"] if a.startswith(("action_", "validate_")) and a != "action_handoff"]
    missing = [name for name in custom if name not in executor.actions]
    assert missing == []
