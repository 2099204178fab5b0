"""Recognise product and carrier names from the live catalogue with spaCy.

DIET learns entities from the training data, so it only knows the products
that were in the catalogue at training time. This component reads the
catalogue files when the bot starts (and again whenever they change), builds a
spaCy EntityRuler over a blank ``zh`` pipeline with the jieba segmenter, and
so recognises a newly added product without retraining. It also maps every
product/carrier value to its canonical name (顺丰快递/SF → 顺丰) and drops
DIET guesses that name nothing in the catalogue.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.catalogue import Catalogue, catalogue_mtime, load_catalogue
from bot.tokenizer import add_words_to_jieba

logger = logging.getLogger(__name__)

CATALOGUE_TYPES = ("product", "carrier")


def build_matcher(catalogue: Catalogue) -> Any:
    """A spaCy pipeline whose EntityRuler labels every alias with its canonical name."""
    import spacy

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns = []
    add_words_to_jieba(catalogue.words())
    for entity, table in catalogue.aliases.items():
        for alias, canonical in table.items():
            patterns.append({"label": entity, "pattern": alias, "id": canonical})
    ruler.add_patterns(patterns)
    return nlp


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class CatalogueEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Catalogue-driven product and carrier entities, canonical values."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"catalogue_path": None, "drop_unknown": True}

    def __init__(self, config: dict[str, Any]) -> None:
        self._path = config.get("catalogue_path")
        self._drop_unknown = config.get("drop_unknown", True)
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._catalogue = Catalogue()
        self._nlp: Any = None
        self._refresh()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CatalogueEntityExtractor":
        return cls(config)

    def _refresh(self) -> None:
        """Reload the catalogue when its files changed since the last load."""
        mtime = catalogue_mtime(self._path)
        if mtime == self._mtime:
            return
        with self._lock:
            if mtime == self._mtime:
                return
            catalogue = load_catalogue(self._path)
            self._nlp = build_matcher(catalogue)
            self._catalogue = catalogue
            self._mtime = mtime
            logger.info("Catalogue loaded: %s", {k: len(set(v.values())) for k, v in catalogue.aliases.items()})

    def process(self, messages: list[Message]) -> list[Message]:
        self._refresh()
        for message in messages:
            text = message.get(TEXT)
            if text:
                entities = self.merge(text, list(message.get(ENTITIES, [])))
                message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def find(self, text: str) -> list[dict[str, Any]]:
        """Catalogue names in ``text`` as Rasa entity dicts."""
        found = []
        for span in self._nlp(text).ents:
            found.append({
                ENTITY_ATTRIBUTE_TYPE: span.label_,
                ENTITY_ATTRIBUTE_START: span.start_char,
                ENTITY_ATTRIBUTE_END: span.end_char,
                ENTITY_ATTRIBUTE_VALUE: span.ent_id_ or span.text,
                "confidence_entity": 1.0,
                "extractor": self.__class__.__name__,
            })
        return found

    def merge(self, text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Canonicalise other extractors' catalogue entities and add ours."""
        ours = self.find(text)
        kept: list[dict[str, Any]] = []
        for entity in entities:
            kind = entity.get(ENTITY_ATTRIBUTE_TYPE)
            if kind not in CATALOGUE_TYPES:
                kept.append(entity)
                continue
            canonical = self._catalogue.canonical(kind, str(entity.get(ENTITY_ATTRIBUTE_VALUE, "")))
            overlap = next((o for o in ours if _overlaps(o, entity)), None)
            if canonical is None and overlap is not None and overlap[ENTITY_ATTRIBUTE_TYPE] == kind:
                canonical = overlap[ENTITY_ATTRIBUTE_VALUE]
            if canonical is None and self._drop_unknown:
                continue
            kept.append({**entity, ENTITY_ATTRIBUTE_VALUE: canonical or entity[ENTITY_ATTRIBUTE_VALUE]})
        for entity in ours:
            if not any(_overlaps(entity, other) for other in kept):
                kept.append(entity)
        return sorted(kept, key=lambda e: e.get(ENTITY_ATTRIBUTE_START, 0))


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a[ENTITY_ATTRIBUTE_START] < b[ENTITY_ATTRIBUTE_END] and b[ENTITY_ATTRIBUTE_START] < a[ENTITY_ATTRIBUTE_END]
