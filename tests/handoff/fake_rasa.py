"""A stand-in for Rasa's REST channel that runs the real ``action_handoff``.

It classifies text with a few keywords (no model), keeps a tracker per
sender, and when a handoff intent comes in it calls ``ActionHandoff.run``
with a ``Tracker.from_dict`` — so the ticket really goes through the action
to the handoff service's bot API with the bot secret, and the conversation
is paused until the service posts the ``resume`` event, as with real Rasa.
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff

ROOT = Path(__file__).resolve().parents[2]
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
HANDOFF_INTENTS = {"request_human", "complain", "report_lost_package"}

KEYWORDS = [
    ("request_human", r"人工|真人"),
    ("complain", r"投诉|差评"),
    ("report_lost_package", r"丢|没收到"),
    ("report_damaged", r"碎|坏了|破损"),
    ("track_shipment", r"物流|快递到哪"),
    ("greet", r"^(你好|在吗|您好)"),
    ("deny", r"^(不用|不要|算了|不是)"),
    ("affirm", r"^(好的|是的?|嗯|可以)"),
]


def classify(text: str) -> str:
    for intent, pattern in KEYWORDS:
        if re.search(pattern, text):
            return intent
    return "nlu_fallback"


def render(name: str, **kwargs: Any) -> str:
    template = RESPONSES[name][0]["text"]
    return template.format_map(defaultdict(str, {k: str(v) for k, v in kwargs.items()}))


class FakeRasa:
    def __init__(self, token: str = "test-rasa-token") -> None:
        self.token = token
        self.events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.paused: dict[str, bool] = defaultdict(bool)
        self.slots: dict[str, dict[str, Any]] = defaultdict(dict)
        self.resumed: list[str] = []
        self.received: list[tuple[str, str]] = []
        self.up = True

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sender}/tracker/events", self.tracker_event)
        return app

    async def webhook(self, request: web.Request) -> web.Response:
        if not self.up:
            return web.json_response({"error": "down"}, status=503)
        body = await request.json()
        sender, text = body["sender"], body["message"]
        self.received.append((sender, text))
        intent = classify(text)
        entities = [{"entity": "order_id", "value": m} for m in re.findall(r"\d{16,19}", text)]
        for ent in entities:
            self.slots[sender][ent["entity"]] = ent["value"]
        parse = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities}
        self.events[sender].append({"event": "user", "text": text, "parse_data": parse, "timestamp": time.time()})
        if self.paused[sender]:
            return web.json_response([])  # a paused conversation predicts nothing
        last_bot = next((e.get("metadata", {}).get("utter_action") for e in reversed(self.events[sender][:-1])
                         if e["event"] == "bot"), None)
        if intent in HANDOFF_INTENTS or (intent == "affirm" and last_bot == "utter_offer_human"):
            replies = await self._handoff(sender, parse)
        elif intent == "deny" and last_bot == "utter_offer_human":
            replies = [("utter_anything_else", render("utter_anything_else"))]
        elif intent == "greet":
            replies = [("utter_greet", render("utter_greet"))]
        elif intent == "track_shipment":
            replies = [("utter_track", "亲，您的包裹已到达杭州转运中心，预计明天送达~")]
        elif intent == "nlu_fallback":
            name = "utter_offer_human" if last_bot == "utter_ask_rephrase" else "utter_ask_rephrase"
            replies = [(name, render(name))]
        else:
            replies = [("utter_default", render("utter_default"))]
        out = []
        for name, reply in replies:
            self.events[sender].append({"event": "bot", "text": reply, "metadata": {"utter_action": name},
                                        "timestamp": time.time()})
            out.append({"recipient_id": sender, "text": reply})
        return web.json_response(out)

    async def _handoff(self, sender: str, parse: dict[str, Any]) -> list[tuple[str, str]]:
        tracker = Tracker.from_dict({
            "sender_id": sender, "slots": dict(self.slots[sender]), "latest_message": parse,
            "events": list(self.events[sender]), "paused": False, "followup_action": None,
            "active_loop": {}, "latest_action_name": "action_listen",
        })
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff().run(dispatcher, tracker, {})
        if any(e.get("event") == "pause" for e in events):
            self.paused[sender] = True
        return [(m["response"], render(m["response"], **{k: v for k, v in m.items() if k not in ("response",)}))
                for m in dispatcher.messages]

    async def tracker_event(self, request: web.Request) -> web.Response:
        if request.query.get("token") != self.token:
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        sender = request.match_info["sender"]
        if body.get("event") == "resume":
            self.paused[sender] = False
            self.resumed.append(sender)
        return web.json_response({"sender_id": sender})
