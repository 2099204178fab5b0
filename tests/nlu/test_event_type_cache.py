"""The cached event-type lookup rebuilds trackers exactly as Rasa's own, without a subclass walk per event."""
from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_patches

EVENTS = [UserUttered("快递到哪了", {"name": "track_shipment", "confidence": 0.9}),
          ActionExecuted("action_check_order_status"), SlotSet("order_id", "1234567890123456"),
          BotUttered("亲，您的快递在路上"), ActionExecuted("action_listen")]


def _rasa_lookup(type_name: str):
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == type_name:
            return cls
    return None


@pytest.fixture(scope="module", autouse=True)
def patched() -> None:
    rasa_patches.install()


def test_every_event_type_resolves_to_rasas_class() -> None:
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is _rasa_lookup(name)


def test_unknown_topic_and_default_behave_as_in_rasa() -> None:
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet


def test_a_tracker_round_trips_and_the_walk_runs_once_per_type(monkeypatch: pytest.MonkeyPatch) -> None:
    dumped = [e.as_dict() for e in EVENTS]
    for _ in range(3):  # warm the cache for these types
        DialogueStateTracker.from_dict("s", dumped, [])
    walks = []
    original = rasa.shared.utils.common.all_subclasses
    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", lambda c: walks.append(c) or original(c))
    rebuilt = DialogueStateTracker.from_dict("s", dumped * 20, [])
    assert [type(e) for e in rebuilt.events] == [type(e) for e in EVENTS] * 20
    assert walks == []
