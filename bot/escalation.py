"""When does a conversation go to a person, and why: signals, reasons, a Rasa policy.

Three layers, each usable alone:

* ``conversation_view(events, slots)`` — the conversation since the last
  handoff (or session start) as a few plain facts: the shopper's turns
  (intent, text, emotion, entities), what actions did after the last one.
  Works on Rasa core events and on the action server's event dicts.
* ``decide(view, settings)`` — the handoff reason for the latest turn, or
  None: safety, double charge, threat, anger, cases the actions cannot settle
  (lost parcel, damage + compensation, overdue refund, failed verification),
  complaints, several problems at once, the shopper saying the bot does not
  help, repeated misunderstandings, loops, an explicit request. Pure and
  deterministic; reasons are checked in ``REASON_ORDER`` (most serious first).
* ``EscalationPolicy`` — predicts ``action_handoff`` (confidence 1, priority 7,
  above RulePolicy's 6) when ``decide`` returns a reason, and sets the
  ``handoff_reason`` slot as an optional event (applied only when it wins,
  before the action runs). Otherwise it abstains with all-zero scores and
  clears a stale ``handoff_reason``.

``handoff_reason(tracker)`` gives ``action_handoff`` the same (reason, topic)
pair from a rasa_sdk Tracker, whichever policy or rule triggered it.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable, Mapping, Optional

from bot import rasa_patches
from bot.emotion import score_message
from bot.escalation_cues import TextSignals, cached_cues, text_signals
from bot.textnorm import is_elliptical_follow_up, normalise

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff"
REASON_SLOT = "handoff_reason"

# Most serious first: when several reasons fire, the first one is reported.
REASON_ORDER = (
    "safety", "threat", "double_charge", "anger", "refund_overdue", "damage_compensation",
    "dispute", "lost_parcel", "complaint", "verification_failed", "multi_issue", "bot_not_helping",
    "repeated_misunderstanding", "loop", "explicit_request",
)
# The level each reason is meant to reach (docs/escalation.md); the handoff
# service's priority formula (settings/handoff.yml) turns reason + emotion +
# VIP tier + order value into the actual level.
REASON_LEVELS = {
    "safety": "urgent", "threat": "urgent", "double_charge": "urgent",
    "anger": "high", "complaint": "high", "lost_parcel": "high",
    "refund_overdue": "high", "damage_compensation": "high", "multi_issue": "high", "dispute": "high",
    "verification_failed": "normal", "bot_not_helping": "normal",
    "repeated_misunderstanding": "normal", "loop": "normal", "explicit_request": "normal",
}
# Skill group (ticket topic) by intent, and reasons that fix the topic themselves.
INTENT_TOPICS = {
    "track_shipment": "logistics", "urge_shipment": "logistics", "report_lost_package": "logistics",
    "change_address": "logistics", "request_return": "returns", "request_exchange": "returns",
    "check_refund_status": "returns", "report_damaged": "returns", "ask_product_usage": "usage",
    "check_order_status": "orders", "cancel_order": "orders", "complain": "complaints",
}
FAQ_TOPICS = {
    "shipping_fee": "logistics", "ship_time": "logistics", "delivery_time": "logistics",
    "shipping_carrier": "logistics", "remote_area": "logistics", "return_policy": "returns",
    "return_shipping_fee": "returns", "refund_time": "returns", "exchange_policy": "returns",
    "warranty": "usage", "size_guide": "usage", "invoice": "orders", "stock": "orders",
}
REASON_TOPICS = {
    "safety": "complaints", "threat": "complaints", "double_charge": "orders",
    "lost_parcel": "logistics", "damage_compensation": "returns", "refund_overdue": "returns",
    "complaint": "complaints", "verification_failed": "orders", "dispute": "returns",
}
# Different intents / FAQ keys that ask the same thing ("where is my parcel"):
# three of them in a row are one request repeated.
REQUEST_GROUPS = {
    "track_shipment": "where_is_parcel", "urge_shipment": "where_is_parcel",
    "check_order_status": "where_is_parcel", "faq/ship_time": "where_is_parcel",
    "faq/delivery_time": "where_is_parcel",
    "check_refund_status": "refund", "faq/refund_time": "refund",
}
# Actions that end a stretch of conversation: counting starts again after them.
BOUNDARY_EVENTS = ("session_started", "restart", "resume")


@dataclass
class EscalationSettings:
    """Thresholds and names; every field can be set in the policy's config entry."""

    anger_threshold: float = 0.45
    fallbacks_in_a_row: int = 2            # 0 disables; rules may offer a human instead
    same_request_in_a_row: int = 3         # 0 disables
    # The fallback bound (config.yml FallbackClassifier): an intent the NLU settles on counts here
    # too. Higher, the rules (complain → action_handoff) acted on intents this policy ignored, so
    # a withdrawn complaint (投诉建议的入口在哪，想提个建议) at 0.42 still went to a person.
    intent_min_confidence: float = 0.3
    # Below this, a handoff intent (complain, request_human, report_lost_package) needs its text to
    # back it (an upset cue or a problem; a person named; a loss): unsure and unbacked, the bot
    # answers instead (FAQ or rephrase; tracking for a parcel).
    intent_sure_confidence: float = 0.5
    # The learned second opinion (bot/escalation_model.py) hands off alone only when no rule fired
    # and it is at least this sure; above 1 it never does (ablations). Chosen on the development
    # sets left out one at a time: 0.8 added false handoffs, 0.9 none on a new set.
    model_threshold: float = 0.9
    handoff_action: str = HANDOFF_ACTION
    # The rules' answer to a misunderstanding (data/stories/chitchat.yml).
    rephrase_action: str = "utter_ask_rephrase"
    reason_slot: str = REASON_SLOT
    fallback_intent: str = "nlu_fallback"
    # Intents that mean "the bot did not understand" as much as nlu_fallback:
    # gibberish and vague messages get out_of_scope with high confidence.
    not_understood_intents: tuple[str, ...] = ("nlu_fallback", "out_of_scope")
    # Bot answers that tell the shopper they were not understood.
    not_understood_responses: tuple[str, ...] = (
        "utter_ask_rephrase", "utter_default", "utter_out_of_scope", "action_default_fallback")
    # action_answer_faq asks to rephrase below this response-selector confidence.
    faq_min_confidence: float = 0.3
    offer_human_responses: tuple[str, ...] = ("utter_offer_human",)
    intent_reasons: dict[str, str] = field(default_factory=lambda: {
        "request_human": "explicit_request", "complain": "complaint",
        "report_lost_package": "lost_parcel"})
    loop_ignore_intents: tuple[str, ...] = (
        "affirm", "deny", "inform", "greet", "goodbye", "thank", "nlu_fallback", "out_of_scope",
        "request_human")
    # Boolean slots the shop actions set; true since the last user turn -> reason.
    # verification_locked is deliberately absent: three failed verifications
    # end in the *offer* of a human (issue 3), and accepting it hands off.
    # When a handoff intent's text takes it back (不想投诉，就问下…; 不用转人工; 没丢没丢), the rules
    # for that intent would still hand off: this action answers instead (FAQ, or a rephrase).
    withdrawn_answer_action: str = "action_answer_faq"
    withdrawn_answer_actions: dict[str, str] = field(default_factory=lambda: {
        "report_lost_package": "action_track_shipment"})
    flag_slots: dict[str, str] = field(default_factory=lambda: {
        "verification_failed": "verification_failed", "refund_overdue": "refund_overdue",
        "double_charge": "double_charge"})
    disabled_reasons: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "EscalationSettings":
        known = {f.name for f in fields(cls)}
        values = {}
        for key, value in (config or {}).items():
            if key not in known:
                continue
            if isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return cls(**values)


@dataclass
class Turn:
    """One shopper message as the NLU understood it."""

    text: str = ""
    intent: Optional[str] = None
    confidence: float = 1.0
    faq_key: Optional[str] = None
    emotion: Optional[dict[str, Any]] = None
    entities: list[tuple[str, str]] = field(default_factory=list)
    faq_confidence: float = 1.0
    # bot.escalation_model's reading: {"score", "category", "reason"} (None without the model).
    model: Optional[dict[str, Any]] = None
    # What the bot did in answer to this turn (filled in as later events arrive).
    answers: list[str] = field(default_factory=list)

    @property
    def request(self) -> Optional[str]:
        """The request identity for loop counting (faq answers count per key)."""
        if self.intent == "faq" and self.faq_key:
            key = self.faq_key if "/" in self.faq_key else f"faq/{self.faq_key}"
            return REQUEST_GROUPS.get(key, key)
        return REQUEST_GROUPS.get(self.intent or "", self.intent)


@dataclass
class ConversationView:
    """The conversation since the last handoff or session start."""

    turns: list[Turn] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    bot_action_before_last_turn: Optional[str] = None
    actions_since_last_turn: list[str] = field(default_factory=list)
    slots_since_last_turn: dict[str, Any] = field(default_factory=dict)

    @property
    def last(self) -> Optional[Turn]:
        return self.turns[-1] if self.turns else None


@dataclass
class Decision:
    """Why the conversation goes to a person, for whom, and how urgently."""

    reason: str
    topic: str
    level: str
    signals: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------- events

def _light_event(event: Any) -> Optional[dict[str, Any]]:
    """A Rasa core Event or an SDK event dict as the small dict this module reads."""
    if isinstance(event, Mapping):
        kind = event.get("event")
        if kind == "user":
            return {"event": "user", "text": event.get("text") or "", "parse_data": event.get("parse_data") or {}}
        if kind == "action":
            return {"event": "action", "name": event.get("name")}
        if kind == "slot":
            return {"event": "slot", "name": event.get("name"), "value": event.get("value")}
        if kind == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            return {"event": "bot", "utter_action": utter}
        if kind in BOUNDARY_EVENTS:
            return {"event": kind}
        return None
    kind = getattr(event, "type_name", None)
    if kind == "user":
        return {"event": "user", "text": event.text or "", "parse_data": event.parse_data or {}}
    if kind == "action":
        return {"event": "action", "name": event.action_name}
    if kind == "slot":
        return {"event": "slot", "name": event.key, "value": event.value}
    if kind in BOUNDARY_EVENTS:
        return {"event": kind}
    return None


def _turn(event: Mapping[str, Any]) -> Turn:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    selector = parse.get("response_selector") or {}
    response = ((selector.get("faq") or selector.get("default") or {}).get("response") or {})
    key = response.get("intent_response_key")
    entities = [(str(e.get("entity")), str(e.get("value"))) for e in parse.get("entities") or []
                if isinstance(e, Mapping)]
    emotion = parse.get("emotion") if isinstance(parse.get("emotion"), Mapping) else None
    model = parse.get("escalation_model") if isinstance(parse.get("escalation_model"), Mapping) else None
    try:
        confidence = float(intent.get("confidence", 1.0) if intent.get("confidence") is not None else 1.0)
    except (TypeError, ValueError):
        confidence = 1.0
    try:
        faq_confidence = float(response.get("confidence", 1.0) if response.get("confidence") is not None else 1.0)
    except (TypeError, ValueError):
        faq_confidence = 1.0
    return Turn(text=str(event.get("text") or parse.get("text") or ""), intent=intent.get("name"),
                confidence=confidence, faq_key=key, emotion=dict(emotion) if emotion else None,
                entities=entities, faq_confidence=faq_confidence, model=dict(model) if model else None)


def conversation_view(events: Iterable[Any], slots: Mapping[str, Any] | None = None,
                      handoff_action: str = HANDOFF_ACTION) -> ConversationView:
    """The facts ``decide`` needs, from core events or SDK event dicts (oldest first)."""
    light = [e for e in (_light_event(ev) for ev in events) if e is not None]
    start = 0
    for i, ev in enumerate(light):
        if ev["event"] in BOUNDARY_EVENTS or (ev["event"] == "action" and ev["name"] == handoff_action):
            start = i + 1
    view = ConversationView(slots=dict(slots or {}))
    last_bot_action: Optional[str] = None
    for ev in light[start:]:
        kind = ev["event"]
        if kind == "user":
            view.bot_action_before_last_turn = last_bot_action
            view.turns.append(_turn(ev))
            view.actions_since_last_turn = []
            view.slots_since_last_turn = {}
        elif kind == "action":
            name = ev.get("name")
            if name and name != "action_listen":
                last_bot_action = name
                if view.turns:
                    view.actions_since_last_turn.append(name)
                    view.turns[-1].answers.append(name)
        elif kind == "bot" and ev.get("utter_action"):
            last_bot_action = ev["utter_action"]
            if view.turns:
                view.turns[-1].answers.append(ev["utter_action"])
        elif kind == "slot" and view.turns:
            view.slots_since_last_turn[str(ev.get("name"))] = ev.get("value")
    return view


# ----------------------------------------------------------------- decision

def _emotion(turn: Turn) -> dict[str, Any]:
    if turn.emotion and "score" in turn.emotion:
        return turn.emotion
    return score_message(turn.text).as_dict()


def _topic(view: ConversationView, reason: str) -> str:
    if reason in REASON_TOPICS:
        return REASON_TOPICS[reason]
    for turn in reversed(view.turns):
        if turn.intent in INTENT_TOPICS:
            return INTENT_TOPICS[turn.intent]
        if turn.intent == "faq" and turn.faq_key:
            topic = FAQ_TOPICS.get(turn.faq_key.split("/")[-1])
            if topic:
                return topic
    return "complaints" if reason in ("anger", "multi_issue") else "general"


def _confident(turn: Turn, settings: EscalationSettings) -> bool:
    return turn.confidence >= settings.intent_min_confidence


# What a message asks about, read from its words, for when the NLU read one of the repeats as
# something else (我就想知道钱哪天能回到我卡里 after two refund questions read as track_shipment).
_TEXT_REQUESTS = {
    "refund": re.compile(r"退款|退钱|钱[^,.!?;，。！？；]{0,8}(退|回|到账|到卡|返)"),
    "where_is_parcel": re.compile(r"快递|包裹|物流|发货|到哪|送到|派送"),
}


def _asks_for(turn: Turn, request: str, settings: EscalationSettings) -> bool:
    """The turn asks ``request``: by its intent, or by its words when the intent is another request."""
    if turn.request == request:
        return True
    # Only between requests the NLU mixes up (money vs parcel: 钱什么时候到 / 快递什么时候到), and
    # only when the message has none of the words of the request it was read as.
    pattern, own = _TEXT_REQUESTS.get(request), _TEXT_REQUESTS.get(turn.request or "")
    if pattern is None or own is None or turn.intent in settings.loop_ignore_intents:
        return False
    text = normalise(turn.text).text
    return bool(pattern.search(text)) and not own.search(text)


def _is_loop(view: ConversationView, settings: EscalationSettings) -> bool:
    n = settings.same_request_in_a_row
    if n <= 1 or len(view.turns) < n or _acknowledges(view.turns[-1]):
        return False  # 好吧 那尽量快点哈: the third message takes the answer, it does not ask again
    recent = view.turns[-n:]
    request = _loop_request(recent, settings)
    if not request:
        return False
    # 发票怎么开 / 电子发票发邮箱吗 / 那开公司抬头要税号吧: follow-up questions on one topic, not a loop.
    if _is_follow_up(recent[-1]):
        return False
    return not _about_different_things(recent)


def _loop_request(recent: list[Turn], settings: EscalationSettings) -> Optional[str]:
    """The request every one of ``recent`` asks, or None.

    One of them may be read as another request when its words ask this one (我就想知道钱哪天能回到
    我卡里 read as track_shipment after two refund questions). One may be a message the bot did not
    understand when it shares words with another (订单X什么时候发货 / 这个订单啥时候能发 / X发货时间):
    the shopper asked the same thing in words the NLU missed.
    """
    last = recent[-1]
    if last.intent in settings.loop_ignore_intents:
        return None
    candidates = dict.fromkeys(t.request for t in reversed(recent)
                               if t.request and t.intent not in settings.loop_ignore_intents)
    for request in candidates:
        unplaced = [t for t in recent if not _asks_for(t, request, settings)]
        if not unplaced:
            return request
        if len(unplaced) > 1 or len(recent) < 3 or unplaced[0] is last:
            continue
        odd = unplaced[0]
        if _not_understood(odd, settings) and any(
                _word_pairs(odd.text) & _word_pairs(t.text) for t in recent if t is not odd):
            return request
    return None


def _about_different_things(turns: list[Turn]) -> bool:
    """Three questions about three different orders (or parcels, products) are not a loop."""
    for entity in ("order_id", "tracking_number", "product"):
        if len({v for t in turns for e, v in t.entities if e == entity}) >= 2:
            return True
    return False


# Word pairs too common to show that two messages ask the same thing.
_GENERIC_PAIRS = frozenset({"什么", "怎么", "请问", "我问", "问一", "一下", "可以", "能不", "不能", "你们", "我的",
                            "这个", "那个", "时候", "么时", "多少", "是不", "有没", "没有", "问下", "问问", "一个"})


# A message that opens like this asks something new about the same topic.
_FOLLOW_UP = re.compile(r"(行|好|好的|ok|嗯|哦|噢)?[,.!~ ]?(那(?![个款件单边些种])|如果|要是|假如|顺便|另外|对了|还有个|再问)")


def _is_follow_up(turn: Turn) -> bool:
    return bool(_FOLLOW_UP.match(normalise(turn.text).text))


def _word_pairs(text: str) -> set[str]:
    chars = [c for c in normalise(text).text.lower() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])} - _GENERIC_PAIRS


def _asked_again_unanswered(view: ConversationView, settings: EscalationSettings) -> bool:
    """The same words in each of the last n messages (什么时候出货 / 我问什么时候出货 / 出货时间),
    and the bot failed to understand at least one of them: the NLU read them as different
    requests, but the shopper is going round in circles."""
    n = settings.same_request_in_a_row
    if n <= 1 or len(view.turns) < n:
        return False
    recent = view.turns[-n:]
    misunderstood = set(settings.not_understood_intents) | {settings.fallback_intent}
    if any(t.intent in settings.loop_ignore_intents and t.intent not in misunderstood for t in recent):
        return False
    requests = [t.request for t in recent if t.request]
    repeated_request = any(requests.count(r) >= 2 for r in set(requests))
    # Not understood at least once, or the same request answered before and asked again in other
    # words the NLU read differently (专票能开吗 / 增值税专票可以开不 / 专票能不能开 给个准话).
    if not (any(_not_understood(t, settings) for t in recent) or repeated_request):
        return False
    if _is_follow_up(recent[-1]) or _about_different_things(recent):
        return False
    common = set.intersection(*(_word_pairs(t.text) for t in recent))
    return bool(common)


def _same_answer_again(view: ConversationView, settings: EscalationSettings) -> bool:
    """The bot gave the same answer twice in the last n turns and the shopper asks about the
    same thing once more (可以开票不 / 票要怎么开啊 / 开票在哪里弄): whatever the NLU read, the
    answer did not settle it, and a third identical answer would not either."""
    n = settings.same_request_in_a_row
    if n <= 1 or len(view.turns) < n:
        return False
    recent = view.turns[-n:]
    last = recent[-1]
    if last.intent in _CLOSING_INTENTS or last.intent == "inform" or _is_follow_up(last):
        return False
    # An FAQ answer's words depend on the key the selector chose, not only on the action.
    answered = [(tuple(t.answers), t.faq_key if t.intent == "faq" else None) for t in recent[:-1] if t.answers]
    if len(answered) < 2 or len(set(answered)) == len(answered) or _about_different_things(recent):
        return False
    words = _word_pairs(last.text)  # on the topic of every earlier message, not a new question
    return all(words & _word_pairs(t.text) for t in recent[:-1])


# 我问的是… / 就问能不能… / 我只想知道…: the shopper states once more what they asked.
_RESTATES = re.compile(r"我(就|只|是|就是)?(问|想问|要问)的(是|就是)|我(就|只)?是(问|想问)|^(就|我就|我只|只)(问|想问|想知道)|我(就|只)想知道")


# What kind of answer a question wants. 运费多少 / 运费险怎么用 are two questions on one topic;
# 能预约周末送货吗 / 指定周末配送行不行 is one question asked twice.
_QUESTION_KINDS = {
    "yes_no": re.compile(r"吗|嘛|[能会要可]不[能会要可]|行不行|好不好|有没有|是不是|对不对|可不可以|不$|没$"),
    "how": re.compile(r"怎么|怎样|咋|如何|步骤|方法"),
    "which": re.compile(r"哪|什么|啥|多少|几|多久|多长|多大|多重"),
    "who": re.compile(r"谁"),
    "why": re.compile(r"为什么|为啥|为何|凭什么"),
}


def _question_kinds(text: str) -> set[str]:
    text = normalise(text).text
    return {kind for kind, pattern in _QUESTION_KINDS.items() if pattern.search(text)}


def _restated_unanswered(view: ConversationView, settings: EscalationSettings) -> bool:
    """The third message asks again what the first asked (its words, or 我问的是…), and the bot
    did not settle it: it did not understand one of them, or gave a different kind of answer
    each time (能预约周末送货吗 / 周六日可以送吗 / 指定周末配送行不行, read as three requests)."""
    n = settings.same_request_in_a_row
    if n <= 2 or len(view.turns) < n:
        return False
    recent = view.turns[-n:]
    last = recent[-1]
    if (last.intent in _CLOSING_INTENTS or any(_acknowledges(t) for t in recent) or _is_follow_up(last)
            or _about_different_things(recent)):
        return False
    restates = bool(_RESTATES.search(normalise(last.text).text))
    if not restates:
        if not _word_pairs(last.text) & _word_pairs(recent[0].text):
            return False
        first_kinds, last_kinds = _question_kinds(recent[0].text), _question_kinds(last.text)
        if first_kinds and last_kinds and not first_kinds & last_kinds:
            return False  # the same topic, another question
    requests = {t.request for t in recent}
    return restates or len(requests) > 1 or any(_not_understood(t, settings) for t in recent[:-1])


def _asked_before(view: ConversationView) -> bool:
    """An earlier turn shares words with the latest one (the same topic asked again)."""
    if len(view.turns) < 2 or view.last is None:
        return False
    words = _word_pairs(view.last.text)
    return any(words & _word_pairs(t.text) for t in view.turns[:-1])


# 好的 那我睡前充上 / 嗯嗯知道了 / ok明白: an acknowledgement, then at most a few words or what the
# shopper will do next (那我/我去/我先/我再), and no question.
_ACKNOWLEDGEMENT = re.compile(r"(好吧|好的|好滴|好|行吧|行|嗯+|哦+|噢+|okay|ok|明白了?|知道了|了解了?|收到)[,.!~ ]*(.*)")
_ACTS_NEXT = re.compile(r"(那|那我|我就|我去|我先|我再|回头)")
_RESOLVED = re.compile(r"(找到|弄好|搞定|解决|没事|好|可以)了$")
_QUESTION = re.compile(r"[?？]|吗|呢|么|怎么|什么|啥|哪|多少|几|能不能|可不可以|是不是|有没有")


def _acknowledges(turn: Turn) -> bool:
    """The shopper takes the answer and moves on: nothing is left for the bot to understand."""
    text = normalise(turn.text).text.lower().strip()
    found = _ACKNOWLEDGEMENT.fullmatch(text)
    if not found or _QUESTION.search(text):
        return False
    rest = found.group(2)
    if re.search(r"[不没别]", rest):  # 行不行啊 / 好的没用: not taking the answer
        return False
    # 好吧 那尽量快点哈 / 哦已经退到花呗了，我去看看: what the shopper does next, in any clause;
    # 哦找到那个按钮了 好了好了: the shopper sorted it out.
    parts = re.split(r"[,.!~ ]+", rest)
    return (len(rest) <= 4 or any(_ACTS_NEXT.match(part) for part in parts)
            or any(_RESOLVED.search(part) for part in parts))


def _fallbacks_in_a_row(view: ConversationView, settings: EscalationSettings) -> bool:
    """The bot failed to place the last n messages — unless the last one closes the topic
    (好的 那我睡前充上) or only praises (服务真好，下次再来): a person has nothing to settle."""
    n = settings.fallbacks_in_a_row
    if n <= 0 or len(view.turns) < n:
        return False
    if not all(_not_understood(t, settings) for t in view.turns[-n:]):
        return False  # the usual case, decided without reading the text again
    last = view.turns[-1]
    return not (_acknowledges(last) or _praise_only(_emotion(last)) or _calm_follow_up(last))


# 那个啥来着 / 就是那个东西嘛 / 我的那个呢: the shopper cannot say what they want; a person can ask.
_VAGUE = re.compile(r"那个啥|啥来着|那个东西|就是那个|就那个|你懂的|那玩意|我的.{0,2}呢")


def _offers_instead(view: ConversationView, settings: EscalationSettings) -> bool:
    """Two different calm questions the bot could not place (包装成礼盒吗 / 能写张贺卡吗): nobody is
    stuck yet, so the bot offers a person (utter_offer_human) and the shopper chooses. Not when the
    second message asks the first again (shared words, 我问的是…), shows any upset cue, or comes
    after an offer already made."""
    if len(view.turns) < 2 or view.bot_action_before_last_turn in settings.offer_human_responses:
        return False
    if len(view.turns) >= 3 and _not_understood(view.turns[-3], settings):
        return False  # a third miss in a row
    last, before = view.turns[-1], view.turns[-2]
    text = normalise(last.text).text
    if _VAGUE.search(normalise(before.text).text) or _VAGUE.search(text):
        return False
    # Real questions the NLU could not place; gibberish, chit-chat (out_of_scope) and vague
    # messages (就是那个东西嘛) stay misunderstandings: a person should take those.
    if not {last.intent, before.intent} <= {settings.fallback_intent, "faq"}:
        return False
    if not _QUESTION.search(text) or len(re.findall(r"[\u4e00-\u9fff]", text)) < 5:
        return False
    if _emotion(last).get("cues") or _emotion(before).get("label") not in (None, "calm"):
        return False
    if _RESTATES.search(text):
        return False
    return not _word_pairs(last.text) & _word_pairs(before.text)


def _calm_follow_up(turn: Turn) -> bool:
    """粉色的呢 / 那XL呢 after a question the bot missed: the shopper goes on calmly about the same
    thing in fewer words. One more try before a person; a third miss in a row still counts."""
    text = normalise(turn.text).text
    # 那我的快递呢 asks where the shopper's own parcel is: a question of its own, not a variant.
    return is_elliptical_follow_up(text) and "我的" not in text and not _emotion(turn).get("cues")


def _not_understood(turn: Turn, settings: EscalationSettings) -> bool:
    """The NLU could not place the message, or the bot answered that it did not understand.

    DIET can be confidently wrong on vague messages ("那啥" → faq 1.0); what
    the shopper experiences is the bot asking to rephrase, so that counts too.
    """
    if turn.intent in set(settings.not_understood_intents) | {settings.fallback_intent}:
        return True
    if turn.intent == "faq" and turn.faq_confidence < settings.faq_min_confidence:
        return True
    return any(answer in settings.not_understood_responses for answer in turn.answers)


def _praise_only(emotion: Mapping[str, Any]) -> bool:
    """Praise and no complaint or impatience cue: sincere thanks, not a complaint. Exclamation
    marks alone (太棒了！！) may lift the label to impatient; they do not make praise a complaint."""
    cues = [str(c) for c in emotion.get("cues") or []]
    return (emotion.get("label") in ("calm", "impatient") and float(emotion.get("score") or 0.0) < 0.2
            and any(c.startswith("praise:") for c in cues)
            and not any(c.startswith(("negative:", "abuse:", "threat:", "sarcasm:", "safety:", "impatience:",
                                      "repeat:")) for c in cues))


_COMPLAINT_WORD_CUES = frozenset({"negative:投诉"})


def _intent_withdrawn(reason: str, emotion: Mapping[str, Any], cues: TextSignals, turn_text: str = "") -> bool:
    """The text takes back what the intent alone would mean: 服务真好，五星好评 (praise),
    不想投诉，提个建议 (a calm suggestion), 没丢没丢，找到了 (the parcel turned up)."""
    if reason == "complaint":
        # The word 投诉 itself (投诉建议在哪提) is what made the intent; it does not show anger.
        upset = any(str(c).startswith(("negative:", "abuse:", "threat:", "sarcasm:", "safety:"))
                    and str(c) not in _COMPLAINT_WORD_CUES for c in emotion.get("cues") or [])
        # A complaint word the scorer discounted (不是投诉; 差评会被删吗 asked about; 追剧气死了 about
        # something else) with nothing else upset: the intent read the word, not a complaint.
        discounted = ("negated:", "question:", "offtopic:", "joke:")
        # 这款相机的曝光补偿在哪调 read as complain: a question with no complaint word, no
        # emotion and no problem in it is a question.
        plain_question = (not emotion.get("cues") and not cues.problem_groups
                          and bool(_QUESTION.search(normalise(turn_text).text)))
        return _praise_only(emotion) or (bool(cues.suggestion) and not upset) or plain_question or (
            any(str(c).startswith(discounted) for c in emotion.get("cues") or []) and not upset)
    if reason == "lost_parcel":
        # A lost parcel goes to a person even when reported calmly (the actions cannot settle it);
        # only 没丢没丢 / 找到了 takes it back, or asking about the risk (万一丢了会补发吗).
        # (Tracking calm reports first cost 6 points of recall.)
        # A parcel a day or two late (包裹卡在转运中心两天了) is a delay: the bot tracks it.
        return (bool(cues.parcel_found) or cues.asked_about or cues.short_delay) and not cues.not_received
    return False


_PERSON = re.compile(r"人|客服|小二|agent|human|person|staff|someone")
_UPSET_CUES = ("negative:", "abuse:", "threat:", "sarcasm:", "safety:", "impatience:", "repeat:")
_LOSS = re.compile(r"丢|不见|找不到|被人?拿|冒领|没收到|没到")


def _unsure_and_unbacked(turn: Turn, reason: str, emotion: Mapping[str, Any], cues: TextSignals,
                         settings: EscalationSettings) -> bool:
    """The NLU is unsure of a handoff intent and the words do not back it (a praise or a question
    read as complain at 0.4): too little to take the shopper away from an answer."""
    if turn.confidence >= settings.intent_sure_confidence:
        return False
    text = normalise(turn.text).text.lower()
    if reason == "complaint":
        return not (cues.problem_groups or any(str(c).startswith(_UPSET_CUES) for c in emotion.get("cues") or []))
    if reason == "lost_parcel":
        return not (cues.not_received or _LOSS.search(text))
    if reason == "explicit_request":
        return not _PERSON.search(text)
    return False


def _wants_human(turn: Turn, intent: Optional[str], cues: TextSignals,
                 settings: EscalationSettings) -> Optional[str]:
    """Evidence that the shopper asks for a person, or None (不用转人工 is not a request)."""
    if cues.human_negated:
        return None
    if cues.human_request:
        return f"text={cues.human_request}"
    if intent and settings.intent_reasons.get(intent) == "explicit_request":
        # 人工智能, 人工倒垃圾: not about our agents; 人工几点上班 / 以后找人工在哪点: about them.
        if cues.human_neutral or cues.human_asked_about:
            return None
        # 你们的服务好好呀 read as "服务" = a person: praise that names no person is no request
        # (human agent please, 谢谢 is one).
        emotion = _emotion(turn)
        if _praise_only(emotion) and not _PERSON.search(normalise(turn.text).text.lower()):
            return None
        if _unsure_and_unbacked(turn, "explicit_request", emotion, cues, settings):
            return None
        return f"intent={intent}"
    return None


def user_turn_reasons(view: ConversationView, settings: EscalationSettings) -> list[tuple[str, str]]:
    """Every (reason, evidence) that fires for the latest shopper turn."""
    turn = view.last
    if turn is None:
        return []
    found: list[tuple[str, str]] = []
    emotion = _emotion(turn)
    cues: TextSignals = text_signals(turn.text, cached_cues())
    intent = turn.intent if _confident(turn, settings) else None
    score = float(emotion.get("score") or 0.0)

    if emotion.get("safety"):
        found.append(("safety", "emotion.safety"))
    if emotion.get("threat"):
        found.append(("threat", "emotion.threat"))
    if cues.double_charge:
        found.append(("double_charge", cues.double_charge))
    if score >= settings.anger_threshold:
        found.append(("anger", f"emotion.score={score:.2f}"))
    if cues.refund_overdue or (cues.overdue and turn.intent == "check_refund_status"):
        found.append(("refund_overdue", cues.overdue or ""))
    if cues.compensation and (cues.damage or turn.intent == "report_damaged"):
        found.append(("damage_compensation", cues.compensation))
    if cues.dispute:
        found.append(("dispute", cues.dispute))
    if cues.not_received:
        found.append(("lost_parcel", cues.not_received))
    intent_reason = settings.intent_reasons.get(intent or "")
    if intent_reason and intent_reason != "explicit_request" and not _intent_withdrawn(
            intent_reason, emotion, cues, turn.text) and not _unsure_and_unbacked(
            turn, intent_reason, emotion, cues, settings):
        found.append((intent_reason, f"intent={intent}"))
    if cues.cannot_verify:
        found.append(("verification_failed", cues.cannot_verify))
    for slot, reason in settings.flag_slots.items():
        if view.slots_since_last_turn.get(slot) is True:
            found.append((reason, f"slot={slot}"))
    if cues.multi_issue:
        found.append(("multi_issue", "+".join(cues.problem_groups)))
    if cues.bot_not_helping:
        found.append(("bot_not_helping", cues.bot_not_helping))
    elif cues.corrects_bot and len(view.turns) >= 2:
        found.append(("bot_not_helping", f"corrects={cues.corrects_bot}"))
    if _fallbacks_in_a_row(view, settings) and not _offers_instead(view, settings):
        found.append(("repeated_misunderstanding", f"{settings.fallbacks_in_a_row}x {settings.fallback_intent}"))
    if turn.intent == "affirm" and view.bot_action_before_last_turn in settings.offer_human_responses:
        found.append(("repeated_misunderstanding", "accepted offer of a human"))
    if _is_loop(view, settings):
        found.append(("loop", f"{settings.same_request_in_a_row}x {turn.request}"))
    elif _asked_again_unanswered(view, settings):
        found.append(("loop", "same words, not understood"))
    elif _same_answer_again(view, settings):
        found.append(("loop", "same answer twice, asked again"))
    elif _restated_unanswered(view, settings):
        found.append(("loop", "asked a third time, not settled"))
    elif cues.repeated_asking and len(view.turns) >= 2:
        # "我都问了三遍了": the shopper says they are going round in circles (here or before
        # they came in); as the opening line it is only background, so not alone.
        found.append(("loop", f"text={cues.repeated_asking}"))
    elif cues.asks_again and _asked_before(view):
        # "再问一遍，退款从哪里点进去": asking once more what an earlier turn already asked.
        found.append(("loop", f"text={cues.asks_again}"))
    wants_human = _wants_human(turn, intent, cues, settings)
    if wants_human:
        found.append(("explicit_request", wants_human))
    if not found:
        found += _model_reason(turn, settings)
    return [(r, e) for r, e in found if r not in settings.disabled_reasons]


def _model_reason(turn: Turn, settings: EscalationSettings) -> list[tuple[str, str]]:
    """The learned model's reason when it is sure enough (it is consulted only when no rule fired)."""
    model = turn.model or {}
    try:
        score = float(model.get("score") or 0.0)
    except (TypeError, ValueError):
        return []
    reason = model.get("reason")
    if not isinstance(reason, str) or reason not in REASON_LEVELS or score < settings.model_threshold:
        return []
    return [(reason, f"model={score:.2f}")]


# 哦哦看到了，谢谢 / 好滴 那我去申请: the shopper is done; a muddled answer to that is no reason for a person.
_CLOSING_INTENTS = frozenset({"thank", "goodbye", "affirm", "deny", "greet"})


def action_reasons(view: ConversationView, settings: EscalationSettings) -> list[tuple[str, str]]:
    """Reasons an action raised after the latest user turn (a slot it set)."""
    found: list[tuple[str, str]] = []
    set_reason = view.slots_since_last_turn.get(settings.reason_slot)
    if isinstance(set_reason, str) and set_reason:
        found.append((set_reason, f"slot={settings.reason_slot}"))
    for slot, reason in settings.flag_slots.items():
        if view.slots_since_last_turn.get(slot) is True:
            found.append((reason, f"slot={slot}"))
    # The NLU was confident but the bot still answered "I did not understand" (a core fallback,
    # no usable FAQ answer), after not understanding the message before: the second
    # misunderstanding in a row only shows once the bot has answered.
    last = view.last
    if (last is not None and any(a in settings.not_understood_responses for a in last.answers)
            and _fallbacks_in_a_row(view, settings) and last.intent not in _CLOSING_INTENTS):
        found.append(("repeated_misunderstanding", "bot answered it did not understand, twice in a row"))
    return [(r, e) for r, e in found if r not in settings.disabled_reasons]


def _pick(view: ConversationView, found: list[tuple[str, str]]) -> Optional[Decision]:
    if not found:
        return None
    rank = {r: i for i, r in enumerate(REASON_ORDER)}
    reason = min((r for r, _ in found), key=lambda r: rank.get(r, len(rank)))
    signals = [f"{r}:{e}" for r, e in found]
    return Decision(reason, _topic(view, reason), REASON_LEVELS.get(reason, "normal"), signals)


def decide(view: ConversationView, settings: EscalationSettings | None = None) -> Optional[Decision]:
    """The handoff decision for the conversation as it stands, or None (the bot answers).

    Right after a shopper message every signal is checked; after an action,
    only what that action reported through slots (handoff_reason,
    verification_failed ...).
    """
    settings = settings or EscalationSettings()
    if view.last is None:
        return None
    if view.actions_since_last_turn:
        return _pick(view, action_reasons(view, settings))
    return _pick(view, user_turn_reasons(view, settings))


# ----------------------------------------------------------------- for action_handoff

def handoff_reason(tracker: Any, settings: EscalationSettings | None = None) -> tuple[str, str]:
    """(reason, topic) for the ticket ``action_handoff`` is about to create.

    ``tracker`` is a rasa_sdk Tracker or its ``current_state()`` dict. A reason
    set since the shopper's last message (by EscalationPolicy or an action)
    wins; otherwise the signals are recomputed; a handoff no signal explains
    (e.g. a rule) is an explicit request.
    """
    settings = settings or EscalationSettings()
    if isinstance(tracker, Mapping):
        events, slots = tracker.get("events") or [], tracker.get("slots") or {}
    else:
        events, slots = getattr(tracker, "events", []) or [], getattr(tracker, "slots", {}) or {}
    view = conversation_view(events, slots, settings.handoff_action)
    set_reason = view.slots_since_last_turn.get(settings.reason_slot)
    if isinstance(set_reason, str) and set_reason:
        return set_reason, _topic(view, set_reason)
    decision = decide(view, settings)
    if decision is None and view.actions_since_last_turn:
        decision = _pick(view, user_turn_reasons(
            ConversationView(view.turns, view.slots, view.bot_action_before_last_turn), settings))
    if decision is None:
        return "explicit_request", _topic(view, "explicit_request")
    return decision.reason, decision.topic


def level_for_reason(reason: str) -> str:
    """The level a reason is meant to reach before VIP tier and order value."""
    return REASON_LEVELS.get(reason, "normal")


# ----------------------------------------------------------------- Rasa policy

try:  # the policy needs Rasa; the functions above need only the standard library + yaml
    from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
except ImportError:  # pragma: no cover - the action server image has no rasa
    Policy = None  # type: ignore[assignment,misc]

if Policy is not None:

    @DefaultV1Recipe.register(
        DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
    )
    class EscalationPolicy(Policy):
        """Hands off to a person when ``decide`` finds a reason; abstains otherwise."""

        @staticmethod
        def get_default_config() -> dict[str, Any]:
            defaults = asdict(EscalationSettings())
            return {"priority": 7, **{k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()}}

        def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                     execution_context: ExecutionContext, featurizer: Any = None) -> None:
            super().__init__(config, model_storage, resource, execution_context, featurizer)
            self.settings = EscalationSettings.from_config(config)
            rasa_patches.install()  # this runs in the Rasa server only: see bot/rasa_patches.py

        def train(self, training_trackers: list, domain: Domain, **kwargs: Any) -> Resource:
            """Nothing to learn: the thresholds are configuration."""
            self.persist()
            return self._resource

        def _answer_instead(self, view: ConversationView, domain: Domain) -> Optional[tuple[str, str]]:
            """(action, why) when the rules would hand off what no reason backed (decide returned
            None): two different calm questions the bot missed get the offer of a person; a calm
            那XL呢 after a miss gets another request to rephrase; a withdrawn handoff intent gets
            its answer."""
            turn = view.last
            offer = next(iter(self.settings.offer_human_responses), None)
            if (turn is not None and turn.intent in (self.settings.fallback_intent, "faq") and offer
                    and offer in domain.action_names_or_texts
                    and _fallbacks_in_a_row(view, self.settings) and _offers_instead(view, self.settings)):
                return offer, "calm, another question"
            rephrase = self.settings.rephrase_action
            if (turn is not None and turn.intent == self.settings.fallback_intent
                    and self.settings.fallbacks_in_a_row > 0 and _calm_follow_up(turn)
                    and view.bot_action_before_last_turn == rephrase
                    and rephrase in domain.action_names_or_texts):
                return rephrase, "calm follow-up"
            answer = self._answer_for_withdrawn(view, domain)
            return (answer, f"withdrawn {turn.intent}") if answer and turn else None

        def _answer_for_withdrawn(self, view: ConversationView, domain: Domain) -> Optional[str]:
            """The action that answers a handoff intent no reason backed (decide returned None)."""
            turn = view.last
            if turn is None or turn.intent not in self.settings.intent_reasons or not _confident(turn, self.settings):
                return None
            action = self.settings.withdrawn_answer_actions.get(turn.intent, self.settings.withdrawn_answer_action)
            return action if action in domain.action_names_or_texts else None

        def persist(self) -> None:
            with self._model_storage.write_to(self._resource) as path:
                (path / "escalation_settings.json").write_text(
                    json.dumps(asdict(self.settings), ensure_ascii=False), encoding="utf-8")

        def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                         rule_only_data: Optional[dict[str, Any]] = None,
                                         **kwargs: Any) -> PolicyPrediction:
            abstain = self._default_predictions(domain)
            if self.settings.handoff_action not in domain.action_names_or_texts:
                return self._prediction(abstain)
            slot_known = self.settings.reason_slot in {s.name for s in domain.slots}
            view = conversation_view(tracker.events, {}, self.settings.handoff_action)
            after_user = tracker.latest_action_name == ACTION_LISTEN_NAME
            if not after_user and not view.actions_since_last_turn:
                return self._prediction(abstain)
            decision = decide(view, self.settings)
            if decision is None:
                events = []
                if after_user and slot_known and tracker.get_slot(self.settings.reason_slot) is not None:
                    events = [SlotSet(self.settings.reason_slot, None)]  # no stale reason
                instead = self._answer_instead(view, domain) if after_user else None
                if instead:
                    # The rules map this turn straight to a handoff; no reason says so.
                    return self._prediction(
                        confidence_scores_for(instead[0], 1.0, domain),
                        events=events, is_no_user_prediction=True,
                        diagnostic_data={"escalation": {"instead": instead[1]}})
                return self._prediction(abstain, events=events)
            logger.debug("escalation: %s (%s)", decision.reason, ", ".join(decision.signals))
            optional = [SlotSet(self.settings.reason_slot, decision.reason)] if slot_known else []
            # is_no_user_prediction: Rasa's ensemble lets "no user" predictions
            # (RulePolicy's happy-path form prediction) overrule every other one,
            # so without the flag a threat during an active form never hands off.
            # With it, the tie with RulePolicy's 1.0 goes to the higher priority.
            return self._prediction(
                confidence_scores_for(self.settings.handoff_action, 1.0, domain),
                optional_events=optional,
                is_no_user_prediction=True,
                diagnostic_data={"escalation": decision.as_dict()},
            )
