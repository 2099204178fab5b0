"""The linear intent classifier learns intents, ranks them, and survives a save and load."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.linear_intents import LinearIntentClassifier

EXAMPLES = {
    "track_shipment": ["快递 到 哪 了", "查 一下 物流", "包裹 什么 时候 到", "物流 怎么 不 动 了"],
    "request_return": ["我 要 退货", "申请 退货 退款", "这个 不 想要 了 退 了 吧", "怎么 退货"],
    "greet": ["你好", "在 吗", "亲 在 不 在", "有人 吗"],
}


def message(words: str, intent: str | None = None) -> Message:
    tokens, start = [], 0
    for word in words.split():
        tokens.append(Token(word, start))
        start += len(word)
    data = {TEXT: words.replace(" ", ""), TEXT_TOKENS: tokens}
    if intent:
        data[INTENT] = intent
    return Message(data=data)


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def trained(storage: LocalModelStorage) -> tuple[LinearIntentClassifier, Resource]:
    resource = Resource("linear_intents")
    classifier = LinearIntentClassifier.create({}, storage, resource, context())
    data = TrainingData([message(text, intent) for intent, texts in EXAMPLES.items() for text in texts])
    classifier.train(data)
    return classifier, resource


def test_predicts_the_intent_with_a_sorted_ranking(storage: LocalModelStorage) -> None:
    classifier, _ = trained(storage)
    [parsed] = classifier.process([message("我 的 快递 到 哪 了")])
    assert parsed.get(INTENT)["name"] == "track_shipment"
    ranking = parsed.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "track_shipment"
    assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


def test_a_loaded_model_gives_the_same_answer(storage: LocalModelStorage) -> None:
    classifier, resource = trained(storage)
    loaded = LinearIntentClassifier.load({}, storage, resource, context())
    before = classifier.process([message("我 想 退货")])[0].get(INTENT)
    after = loaded.process([message("我 想 退货")])[0].get(INTENT)
    assert before == after and after["name"] == "request_return"


def test_an_untrained_or_empty_message_keeps_the_previous_intent(storage: LocalModelStorage) -> None:
    untrained = LinearIntentClassifier.load({}, storage, Resource("missing"), context())
    kept = message("你好")
    kept.set(INTENT, {"name": "greet", "confidence": 0.9})
    assert untrained.process([kept])[0].get(INTENT) == {"name": "greet", "confidence": 0.9}
    classifier, _ = trained(storage)
    empty = Message(data={TEXT: ""})
    assert classifier.process([empty])[0].get(INTENT) is None


def test_an_unsure_answer_defers_to_a_sure_earlier_classifier(storage: LocalModelStorage) -> None:
    classifier, _ = trained(storage)
    vague = message("嗯 那个 东西")                      # nothing this model learned
    vague.set(INTENT, {"name": "request_human", "confidence": 0.97})
    assert classifier.process([vague])[0].get(INTENT)["name"] == "request_human"
    unsure_before = message("嗯 那个 东西")
    unsure_before.set(INTENT, {"name": "request_human", "confidence": 0.6})
    assert classifier.process([unsure_before])[0].get(INTENT)["name"] != "request_human"
    clear = message("快递 到 哪 了")                     # this model is sure: it decides
    clear.set(INTENT, {"name": "greet", "confidence": 0.99})
    assert classifier.process([clear])[0].get(INTENT)["name"] == "track_shipment"
