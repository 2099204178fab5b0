"""Small, measured fixes to Rasa 3.6 behaviour that cost the running bot time.

Installed by ``EscalationPolicy`` when the Rasa server builds the model's graph,
so they apply to ``rasa run``, ``rasa shell`` and ``rasa test`` alike and never
to the action server or the handoff service.

* Custom-action responses: ``RemoteAction._validate_action_result`` calls
  ``jsonschema.validate(result, schema)``, which checks the (constant) schema
  against the JSON-Schema meta-schema on every action call before validating
  the response. py-spy put 42-45 % of the Rasa server's samples there
  (docs/benchmarks.md). The validator is built and the schema checked once;
  responses are validated exactly as before, with the same error.
* Event deserialisation: ``Event.resolve_by_type`` walks the whole tree of
  ``Event`` subclasses (``all_subclasses``, recursive, with ``inspect.isabstract``
  on each) for every event it rebuilds. The SQL tracker store rebuilds every
  event of the conversation on each turn, so a 75-event conversation cost
  ~7 ms per load, 56 % of it in that walk (``python -m bench.tracker_load``).
  The class found for a type name is remembered; unknown names, ``topic`` and
  defaults still go through Rasa's own method.
"""
from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_installed = False


def _cached_validator() -> Any:
    """One validator for Rasa's action-response schema (checked once)."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _install_event_type_cache() -> None:
    """``Event.resolve_by_type`` scans the subclasses once per type name, not once per event."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    rasa_resolve = Event.resolve_by_type
    known: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = known.get(type_name)
        if cls is not None:
            return cls
        for candidate in rasa.shared.utils.common.all_subclasses(Event):
            if candidate.type_name == type_name:  # the first match, as Rasa's own loop returns
                known[type_name] = candidate
                return candidate
        return rasa_resolve(type_name, default)  # topic, the default, or Rasa's error

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def install() -> None:
    """Patch ``RemoteAction._validate_action_result`` and ``Event.resolve_by_type`` (idempotent)."""
    global _installed
    if _installed:
        return
    _install_event_type_cache()
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _cached_validator()

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    _installed = True
    logger.debug("RemoteAction response validation uses a cached validator")
