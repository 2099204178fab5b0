"""Fault tests reuse the handoff fixtures: fake Rasa running the real action_handoff, services on SQLite."""
from tests.handoff.conftest import fake_rasa, service, service_factory  # noqa: F401  (fixtures)
