"""An apology first when the shopper is upset, before any answer.

The NLU's emotion reading (bot/emotion.py) is in
``tracker.latest_message["emotion"]``. Actions call ``empathy_prefix`` to
start their own text with it, or ``utter_empathy`` to send it as a separate
first bubble before a templated response::

    from actions.empathy import utter_empathy
    utter_empathy(dispatcher, tracker)
    dispatcher.utter_message(response="utter_faq/ship_time", **figures)

Calm shoppers get nothing extra. The wording depends on the label and on what
upset them (waiting, a broken item, a safety problem), and is chosen
deterministically so tests and transcripts are stable.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

# Cues (bot/emotion.py cue names start with these) that say what went wrong.
_WAITING = ("impatience:", "repeat:")
_SAFETY_PREFIX = "非常抱歉！您和家人的安全最重要，"

PREFIXES = {
    "impatient": {
        "waiting": "让您久等了，理解您着急的心情，",
        "other": "理解您着急的心情，",
    },
    "frustrated": {
        "waiting": "非常抱歉让您等了这么久，给您添麻烦了，",
        "other": "非常抱歉给您带来不好的体验，",
    },
    "angry": {
        "waiting": "真的非常抱歉，让您等了这么久还没解决，您生气完全可以理解，",
        "other": "真的非常抱歉让您这么不愉快，您的心情我完全理解，",
    },
}


def _emotion(source: Any) -> Optional[Mapping[str, Any]]:
    latest = getattr(source, "latest_message", None)
    if latest is None and isinstance(source, Mapping):
        latest = source.get("latest_message", source)
    emotion = (latest or {}).get("emotion") if isinstance(latest, Mapping) else None
    return emotion if isinstance(emotion, Mapping) else None


def empathy_prefix(tracker: Any) -> Optional[str]:
    """The apology to put before the answer, or None when the shopper is calm.

    ``tracker``: a rasa_sdk Tracker, its state dict, or a parse result dict.
    """
    emotion = _emotion(tracker)
    if not emotion:
        return None
    if emotion.get("safety"):
        return _SAFETY_PREFIX
    label = str(emotion.get("label") or "calm")
    table = PREFIXES.get(label)
    if table is None:
        return None
    cues = [str(c) for c in emotion.get("cues") or []]
    waiting = any(c.startswith(_WAITING) for c in cues)
    return table["waiting" if waiting else "other"]


def with_empathy(tracker: Any, text: str) -> str:
    """``text`` with the apology in front when the shopper is upset."""
    prefix = empathy_prefix(tracker)
    if not prefix:
        return text
    return prefix + text


def utter_empathy(dispatcher: Any, tracker: Any) -> bool:
    """Send the apology as its own message before a templated answer; True if sent."""
    prefix = empathy_prefix(tracker)
    if not prefix:
        return False
    dispatcher.utter_message(text=prefix + "小美马上为您处理~")
    return True


# Answers that already open with an apology need no second one in front.
_ALREADY_SORRY = ("抱歉", "非常抱歉", "真的非常抱歉", "对不起", "不好意思")


class EmpathyFirst:
    """A dispatcher whose first message to an upset shopper starts with the apology.

    Wraps a rasa_sdk ``CollectingDispatcher`` for actions with several answer
    paths: the first text message gets ``empathy_prefix`` in front (one
    bubble); a first templated response (``response=...``) gets the apology
    as its own bubble before it (``utter_empathy``). Later messages and calm
    shoppers are unchanged; text that already apologises is left alone.
    """

    def __init__(self, dispatcher: Any, tracker: Any) -> None:
        self._dispatcher = dispatcher
        self._prefix = empathy_prefix(tracker)

    def utter_message(self, text: Optional[str] = None, **kwargs: Any) -> None:
        prefix, self._prefix = self._prefix, None
        if prefix:
            if text and not kwargs.get("response") and not kwargs.get("template"):
                if not text.startswith(_ALREADY_SORRY):
                    text = prefix + text
            else:
                self._dispatcher.utter_message(text=prefix + "小美马上为您处理~")
        self._dispatcher.utter_message(text=text, **kwargs)

    def flush(self) -> bool:
        """Send the apology now, as its own bubble, if nothing was said yet (e.g. a form asks next)."""
        prefix, self._prefix = self._prefix, None
        if not prefix:
            return False
        self._dispatcher.utter_message(text=prefix + "小美马上为您处理~")
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)
