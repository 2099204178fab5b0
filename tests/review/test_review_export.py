"""The trainer export over a tracker store written by Rasa's own SQLTrackerStore."""
from __future__ import annotations

import csv

import pytest
import yaml

from bot.review import collect, main

pytest.importorskip("rasa")


def user(text, intent, confidence, ranking=None):
    from rasa.shared.core.events import UserUttered

    ranking = ranking or [{"name": intent, "confidence": confidence}]
    return UserUttered(text, intent={"name": intent, "confidence": confidence},
                       parse_data={"text": text, "intent": {"name": intent, "confidence": confidence},
                                   "intent_ranking": ranking, "entities": []})


async def make_store(path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    conversations = {
        "sure-shopper": [user("包邮吗", "faq", 0.97), BotUttered("亲，满99包邮哦"), ActionExecuted("action_listen")],
        "unsure-shopper": [
            user("我那个东西咋还不来 手机13800006621", "track_shipment", 0.41,
                 [{"name": "track_shipment", "confidence": 0.41}, {"name": "urge_shipment", "confidence": 0.35}]),
            user("哎呀你们这个嘛", "nlu_fallback", 0.6,
                 [{"name": "nlu_fallback", "confidence": 0.6}, {"name": "complain", "confidence": 0.28},
                  {"name": "chitchat", "confidence": 0.2}]),
            BotUttered("抱歉亲，小美没太明白"), ActionExecuted("action_listen"),
        ],
        "handed-off": [
            user("订单3829104857263541要改地址", "change_address", 0.91), ActionExecuted("action_listen"),
            user("改到浙江省杭州市余杭区文一西路1888号", "inform", 0.88), ActionExecuted("action_listen"),
            user("算了找人工", "request_human", 0.95), ActionExecuted("action_handoff"),
        ],
    }
    for sender, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), *events])
        await store.save(tracker)
    store.engine.dispose()


async def test_review_exports_unsure_fallback_and_handoff_messages_masked(tmp_path, capsys):
    db = tmp_path / "tracker.db"
    await make_store(db)
    items = collect(f"sqlite:///{db}", threshold=0.6, context=2)
    got = [(i.conversation, i.reason, i.predicted, round(i.confidence, 2), i.text) for i in items]
    assert got == [
        ("handed-off", "before_handoff", "inform", 0.88, "改到浙江省杭州市余杭区****"),
        ("handed-off", "before_handoff", "request_human", 0.95, "算了找人工"),
        ("unsure-shopper", "low_confidence", "track_shipment", 0.41, "我那个东西咋还不来 手机138****6621"),
        ("unsure-shopper", "fallback", "complain", 0.28, "哎呀你们这个嘛"),
    ]

    assert main(["--tracker-url", f"sqlite:///{db}", "--out", str(tmp_path / "out"), "--context", "3"]) == 0
    assert "5 messages to review" in capsys.readouterr().out
    yml = next((tmp_path / "out").glob("review-*.yml"))
    source = yml.read_text(encoding="utf-8")
    assert "# predicted: track_shipment 0.41 (low_confidence" in source
    assert "13800006621" not in source and "3829104857263541" not in source and "文一西路" not in source
    assert "订单3829********3541要改地址" in source
    data = yaml.safe_load(source)  # valid Rasa NLU data, as a trainer would paste it
    assert data["version"] == "3.1"
    assert {"intent": "complain", "examples": "- 哎呀你们这个嘛\n"} in data["nlu"]
    assert all(block["examples"].startswith("- ") for block in data["nlu"])
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    parsed = RasaYAMLReader().reads(source)
    assert sorted(m.get("text") for m in parsed.training_examples)[0] == "哎呀你们这个嘛"
    rows = list(csv.DictReader(next((tmp_path / "out").glob("review-*.csv")).open(encoding="utf-8-sig")))
    assert [r["reason"] for r in rows].count("before_handoff") == 3
    assert all("13800006621" not in r["text"] for r in rows)


def test_review_reports_a_missing_tracker_store_clearly(tmp_path, capsys):
    assert main(["--tracker-url", f"sqlite:///{tmp_path / 'nothing.db'}", "--out", str(tmp_path)]) == 1
    assert "Cannot read the tracker store" in capsys.readouterr().err
