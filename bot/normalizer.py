"""Rasa component that normalises Chinese shopper text before tokenisation."""
from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import cantonese, textnorm
from bot.fingerprint import source_digest
from bot.textnorm import CANTONESE_TO_MANDARIN, clause_gaps, normalise

logger = logging.getLogger(__name__)

RAW_TEXT = "text_raw"
TEXT_SIGNALS = "text_signals"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class ChineseNormalizer(GraphComponent):
    """Traditional→Simplified, full-width→half-width, spaces and emoji removed.

    Runs first, on training data and on every incoming message, so the model
    only ever sees one written form of Chinese. The raw text and the signals
    the normalisation removed (emoji, longest punctuation run) stay on the
    message for later components (emotion scoring).
    """

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa's training cache keys on config and data only: a change to the normalising code
        must invalidate the normalised training data too, or DIET trains on the old text."""
        return source_digest(__file__, textnorm.__file__, cantonese.__file__)

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # cantonese_to_mandarin: written Cantonese in Mandarin words (bot/cantonese.py).
        return {"cantonese_to_mandarin": CANTONESE_TO_MANDARIN}

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._cantonese = bool((config or {}).get("cantonese_to_mandarin", CANTONESE_TO_MANDARIN))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseNormalizer":
        return cls({**cls.get_default_config(), **config})

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise every training example, moving entity spans with the text."""
        for message in training_data.training_examples:
            self._normalise_message(message, training=True, cantonese=self._cantonese)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise incoming messages."""
        for message in messages:
            self._normalise_message(message, training=False, cantonese=self._cantonese)
        return messages

    @staticmethod
    def _normalise_message(message: Message, training: bool, cantonese: bool) -> None:
        raw = message.get(TEXT)
        if not raw or not isinstance(raw, str):
            return
        result = normalise(raw, cantonese)
        text = result.text or raw.strip() or raw
        if training and message.get(ENTITIES):
            moved = []
            for entity in message.get(ENTITIES):
                span = result.map_span(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
                if span is None:
                    logger.warning("Entity %s lost in normalising %r", entity, raw)
                    continue
                value = entity.get(ENTITY_ATTRIBUTE_VALUE)
                if isinstance(value, str):
                    # A value written in Traditional or full-width would become a
                    # synonym mapping the normalised text back to that form.
                    value = normalise(value, cantonese).text or value
                moved.append({**entity, ENTITY_ATTRIBUTE_START: span[0], ENTITY_ATTRIBUTE_END: span[1],
                              ENTITY_ATTRIBUTE_VALUE: value})
            message.set(ENTITIES, moved)
        message.set(TEXT, text)
        if not training:
            message.set(RAW_TEXT, raw, add_to_output=True)
            message.set(
                TEXT_SIGNALS,
                # clause_gaps: where spaces or emoji separated two phrases (the emotion scorer's clauses).
                {"emoji": result.emoji, "max_punct_run": result.max_punct_run,
                 "clause_gaps": clause_gaps(raw, result)},
                add_to_output=True,
            )
