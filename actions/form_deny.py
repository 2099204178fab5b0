"""A deny inside the return or exchange form: a refusal ends the form, an answer fills the slot.

The return form asks 请问退货的原因是什么呢？ and shoppers answer 不喜欢了 or 不太满意, which the
NLU may classify as deny. The slot mappings ignore deny, the form rejects, and the rules in
data/stories/returns.yml run this action. Here a bare refusal (actions/refusal.py) ends the
form as action_deactivate_loop did; any other message answers the question being asked — the
return reason, or the exchange option (不要黑色的，换白色) — through the form's own validator.
The rules then hand back to the form, which asks the next question, files the request or, if
the validator refused (7-day window, non-returnable item), ends. Other questions (which item,
damage description) keep deny as a refusal; at the confirmation the deny is already mapped to
return_confirmed/exchange_confirmed = false and never reaches this action.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.refusal import is_bare_refusal
from actions.returns import ValidateExchangeForm, ValidateReturnForm

logger = logging.getLogger(__name__)

REQUESTED_SLOT = "requested_slot"

Validator = Callable[[Any, CollectingDispatcher, Tracker, Dict[Text, Any]], Awaitable[Dict[Text, Any]]]


def _answerable() -> Dict[Tuple[str, str], Validator]:
    """(form, requested slot) → the validator of a question a deny-shaped message can answer."""
    return {
        ("return_form", "return_reason"): ValidateReturnForm().validate_return_reason,
        ("exchange_form", "exchange_option"): ValidateExchangeForm().validate_exchange_option,
    }


def _typed_words(tracker: Tracker) -> Optional[str]:
    """What the shopper typed; None for no text or a button payload such as /deny."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    return None if not text or text.startswith("/") else text


class ActionFormDeny(Action):
    """Runs when return_form/exchange_form rejected a message classified as deny."""

    def name(self) -> Text:
        return "action_form_deny"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        form = tracker.active_loop_name
        asked = tracker.get_slot(REQUESTED_SLOT)
        validator = _answerable().get((form or "", asked or ""))
        text = _typed_words(tracker)
        if validator is None or text is None or is_bare_refusal(text):
            logger.info("deny in %s while asking %s: the shopper gives up", form, asked)
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        logger.info("deny in %s while asking %s: taken as the answer", form, asked)
        result = await validator(text, dispatcher, tracker, domain)
        # The form stays active (re-armed after its rejection) and runs next: it asks the
        # next question, or ends if the validator refused the request.
        return [SlotSet(name, value) for name, value in result.items()] + [ActiveLoop(form)]
