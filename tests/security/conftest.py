"""Hostile-input tests reuse the handoff fixtures (fake Rasa running the real
action_handoff, services on SQLite) and the seeded action-test shop."""
from tests.actions.conftest import shop_db  # noqa: F401  (fixture)
from tests.handoff.conftest import fake_rasa, fake_rasa_class, service, service_factory  # noqa: F401  (fixtures)
