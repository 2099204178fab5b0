"""The cached action-response validator accepts and rejects exactly what Rasa's own does."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "123", "timestamp": None}],
     "responses": [{"text": "亲，已为您查到订单", "buttons": []}]},
    {"events": [{"event": "followup", "name": "action_handoff"}], "responses": [{"template": "utter_greet"}]},
]
INVALID = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot"}], "responses": []},  # a slot event without its name
]


def _original(result: dict) -> bool:
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    return True


@pytest.fixture(scope="module")
def action() -> RemoteAction:
    rasa_patches.install()
    return RemoteAction("action_check_order_status", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(action: RemoteAction, result: dict) -> None:
    assert _original(result)
    assert action._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_with_rasa_message(action: RemoteAction, result: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        _original(result)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(result)


def test_schema_is_not_rechecked_per_call(action: RemoteAction, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the patch (42-45 % of Rasa's CPU in the benchmark profile): no meta-schema check per call."""
    calls = []
    for cls in {type(rasa_patches._cached_validator()), jsonschema.Draft7Validator, jsonschema.Draft4Validator}:
        original = cls.check_schema.__func__
        monkeypatch.setattr(cls, "check_schema", classmethod(lambda c, s, _o=original: calls.append(1) or _o(c, s)))
    for _ in range(5):
        action._validate_action_result(VALID[1])
    assert calls == []
    _original(VALID[1])
    assert calls, "the comparison is meaningless if Rasa's path does not check the schema"
