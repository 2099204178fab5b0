"""The learned escalation signal: trains from labelled sets, scores messages, survives a save and
load, and the policy hands off on it only when no rule fired and it is sure enough."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.escalation import EscalationSettings, conversation_view, decide
from bot.escalation_model import OUTPUT, EscalationClassifier, labelled_rows, set_files

ANGRY = ["你们这服务真让人寒心", "客服一问三不知 什么态度", "东西烂成这样还好意思卖", "说好的补发呢 骗鬼呢"]
CALM = ["快递到哪了", "这个锅能用电磁炉吗", "运费多少钱", "什么时候发货", "好的谢谢", "有没有大码"]


def write_set(path: Path) -> Path:
    conversations = [
        {"id": f"a{i}", "category": "anger", "turns": ["你好", text], "expect_handoff": True,
         "handoff_by_turn": 2, "expected_level": "high"} for i, text in enumerate(ANGRY)]
    conversations += [
        {"id": f"c{i}", "category": "calm_routine", "turns": [text], "expect_handoff": False,
         "handoff_by_turn": None, "expected_level": None} for i, text in enumerate(CALM)]
    conversations.append({"id": "l1", "category": "loop", "turns": ["发货了吗", "到底发没发", "发了没"],
                          "expect_handoff": True, "handoff_by_turn": 3, "expected_level": "normal"})
    path.write_text(yaml.safe_dump({"version": "1", "conversations": conversations}, allow_unicode=True), "utf-8")
    return path


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def trained(tmp_path: Path, storage: LocalModelStorage) -> tuple[EscalationClassifier, Resource, dict]:
    write_set(tmp_path / "set_a.yml")
    config = {"training_sets": [str(tmp_path / "set_*.yml")]}
    resource = Resource("escalation_model")
    component = EscalationClassifier.create(config, storage, resource, context())
    nlu = TrainingData([Message(data={TEXT: "退货地址在哪", INTENT: "faq"}),
                        Message(data={TEXT: "我要投诉你们", INTENT: "complain"})])
    component.train(nlu)
    return component, resource, config


def test_labelled_rows_take_the_handoff_turn_and_every_must_not_turn_but_no_loops(tmp_path: Path) -> None:
    rows = labelled_rows([write_set(tmp_path / "set.yml")])
    assert ("你们这服务真让人寒心", "anger") in rows
    assert ("你好", "anger") not in rows and ("你好", "none") not in rows  # before the handoff turn: unknown
    assert ("运费多少钱", "none") in rows
    assert not any(text in {"发货了吗", "到底发没发", "发了没"} for text, _ in rows)


def test_held_out_sets_are_never_training_data(tmp_path: Path) -> None:
    (tmp_path / "data" / "test").mkdir(parents=True)
    (tmp_path / "data" / "dev").mkdir()
    for folder in ("test", "dev"):
        write_set(tmp_path / "data" / folder / "escalation_x.yml")
    found = set_files(["data/*/escalation_*.yml"], root=tmp_path)
    assert [f.parent.name for f in found] == ["dev"]


def test_scores_an_angry_message_above_a_calm_one(tmp_path: Path, storage: LocalModelStorage) -> None:
    component, _, _ = trained(tmp_path, storage)
    angry, calm = component.process([Message(data={TEXT: "这服务态度真让人寒心"}),
                                     Message(data={TEXT: "运费多少钱"})])
    assert angry.get(OUTPUT)["category"] == "anger" and angry.get(OUTPUT)["reason"] == "anger"
    assert angry.get(OUTPUT)["score"] > 0.5 > calm.get(OUTPUT)["score"]
    assert OUTPUT in angry.as_dict(only_output_properties=True)


def test_survives_save_and_load_and_skips_empty_messages(tmp_path: Path, storage: LocalModelStorage) -> None:
    component, resource, config = trained(tmp_path, storage)
    loaded = EscalationClassifier.load({**EscalationClassifier.get_default_config(), **config},
                                       storage, resource, context())
    [before] = component.process([Message(data={TEXT: "客服什么态度"})])
    [after, empty] = loaded.process([Message(data={TEXT: "客服什么态度"}), Message(data={TEXT: ""})])
    assert after.get(OUTPUT) == before.get(OUTPUT)
    assert empty.get(OUTPUT) is None


def test_untrained_model_leaves_messages_alone(storage: LocalModelStorage) -> None:
    component = EscalationClassifier.load(EscalationClassifier.get_default_config(), storage,
                                          Resource("missing"), context())
    [message] = component.process([Message(data={TEXT: "客服什么态度"})])
    assert message.get(OUTPUT) is None


def _view(text: str, model: dict | None, intent: str = "faq") -> object:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "emotion": {"score": 0.0, "cues": []}}
    if model is not None:
        parse["escalation_model"] = model
    return conversation_view([{"event": "user", "text": text, "parse_data": parse}])


def test_policy_hands_off_on_a_sure_model_with_its_reason_and_level() -> None:
    decision = decide(_view("今天不给说法 明天就去你们公司门口拉横幅",
                            {"score": 0.95, "category": "threat", "reason": "threat"}))
    assert decision is not None
    assert (decision.reason, decision.level) == ("threat", "urgent")
    assert decision.signals == ["threat:model=0.95"]


def test_policy_ignores_an_unsure_model_and_an_absent_one() -> None:
    assert decide(_view("运费多少钱", {"score": 0.85, "category": "anger", "reason": "anger"})) is None
    assert decide(_view("运费多少钱", None)) is None
    assert decide(_view("运费多少钱", {"score": "bad", "reason": "anger"})) is None
    assert decide(_view("运费多少钱", {"score": 0.99, "reason": "not-a-reason"})) is None


def test_a_rule_keeps_its_own_reason_over_the_model() -> None:
    decision = decide(_view("我要转人工", {"score": 0.99, "category": "anger", "reason": "anger"},
                            intent="request_human"))
    assert decision is not None and decision.reason == "explicit_request"
    assert not any("model=" in s for s in decision.signals)


def test_the_threshold_is_a_setting() -> None:
    view = _view("今天不给说法 明天就去你们公司门口拉横幅", {"score": 0.95, "reason": "threat"})
    assert decide(view, EscalationSettings(model_threshold=1.01)) is None
