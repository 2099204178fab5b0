"""jieba tokenizer that keeps catalogue names whole and drops blank tokens."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.catalogue import catalogue_dir, load_catalogue

CATALOGUE_DICT = "catalogue_words.txt"
# High enough that jieba never splits a catalogue name ("空气炸锅" not 空气|炸锅).
CATALOGUE_WORD_FREQ = 200000


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class ChineseTokenizer(JiebaTokenizer):
    """JiebaTokenizer with our dictionaries plus every catalogue name and alias.

    Differences from Rasa's JiebaTokenizer:
    - whitespace tokens are dropped (rasa issue #7910: "退款 refund" gave ' ');
    - catalogue names are written into the model's dictionary at training
      time, so entity spans line up with token boundaries;
    - the dictionaries and the catalogue are part of the training fingerprint,
      so editing them retrains the model (Rasa's own tokenizer ignores them).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**JiebaTokenizer.get_default_config(), "catalogue_path": None}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        digest = hashlib.sha256(Path(__file__).read_bytes())  # our code shapes the tokens too
        folders = [config.get("dictionary_path"), config.get("catalogue_path")]
        for folder in filter(None, folders):
            for path in sorted(Path(folder).glob("*")):
                if path.is_file():
                    digest.update(path.name.encode())
                    digest.update(path.read_bytes())
        return digest.hexdigest()

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "ChineseTokenizer":
        tokenizer = super().create(config, model_storage, resource, execution_context)
        _add_catalogue_words(config.get("catalogue_path"))
        return tokenizer

    def persist(self) -> None:
        """Copy our dictionaries and a catalogue word list into the model."""
        with self._model_storage.write_to(self._resource) as directory:
            if self._config.get("dictionary_path"):
                self._copy_files_dir_to_dir(self._config["dictionary_path"], str(directory))
            words = load_catalogue(self._config.get("catalogue_path")).words() if self._config.get(
                "catalogue_path") else []
            lines = [f"{w} {CATALOGUE_WORD_FREQ}\n" for w in words]
            (Path(directory) / CATALOGUE_DICT).write_text("".join(lines), encoding="utf-8")

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        return [t for t in super().tokenize(message, attribute) if t.text.strip()]


def add_words_to_jieba(words: list[str]) -> None:
    """Make jieba keep these names whole (global jieba state)."""
    import jieba

    for word in words:
        jieba.add_word(word, CATALOGUE_WORD_FREQ)


def _add_catalogue_words(configured: str | None) -> None:
    """Make jieba keep catalogue names whole while training."""
    if configured and catalogue_dir(configured).exists():
        add_words_to_jieba(load_catalogue(configured).words())
