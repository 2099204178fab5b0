"""Drop identifier entities whose shape cannot be right.

DIET tags by context, so "下线了 886" can come out as a phone tail. The
contract fixes the shapes (order numbers 16-19 digits, phone tails exactly 4
digits, tracking numbers a courier prefix or 12-15 digits); an identifier of
the wrong shape would only send the shopper through a failed lookup, so it
is removed here and the action asks for the number instead.
"""
from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

SHAPES = {
    "order_id": re.compile(r"[0-9]{16,19}"),
    "phone_tail": re.compile(r"[0-9]{4}"),
    "tracking_number": re.compile(r"[A-Za-z]{1,4}[0-9]{8,16}|[0-9]{12,15}"),
}


def well_formed(entity: dict[str, Any]) -> bool:
    """True unless the entity is an identifier of the wrong shape."""
    shape = SHAPES.get(entity.get("entity", ""))
    return shape is None or bool(shape.fullmatch(str(entity.get("value", "")).strip()))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class EntityShapeFilter(GraphComponent):
    """Removes order numbers, phone tails and tracking numbers of impossible shape."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "EntityShapeFilter":
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES)
            if entities:
                message.set(ENTITIES, [e for e in entities if well_formed(e)], add_to_output=True)
        return messages
