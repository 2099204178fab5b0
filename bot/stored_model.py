"""Base for our trainable NLU components whose learned state is one joblib file in the model."""
from __future__ import annotations

import logging
from typing import Any, Optional

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)


class JoblibComponent(GraphComponent):
    """create/load/persist for a component that keeps ``self._model`` (None until trained).

    Subclasses set ``MODEL_FILE`` and ``MISSING_MODEL`` (logged when a model has none: the
    component then leaves messages as they are) and give ``get_default_config``.
    """

    MODEL_FILE = "model.joblib"
    MISSING_MODEL = "No trained model in %s."

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[dict[str, Any]] = None) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "JoblibComponent":
        return cls({**cls.get_default_config(), **config}, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "JoblibComponent":
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning(cls.MISSING_MODEL, resource.name)
        return cls({**cls.get_default_config(), **config}, model_storage, resource, model)

    def persist(self) -> None:
        """Write the trained model into this component's resource."""
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / self.MODEL_FILE)
