"""Pulling order numbers and phone tails out of what the shopper typed."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

ORDER_NO = re.compile(r"^\d{16,19}$")
PHONE_TAIL = re.compile(r"^\d{4}$")
_DIGITS = re.compile(r"\d+")
_TAIL_CUES = ("尾号", "后四位", "后4位", "手机", "电话")
_LATEST_CUES = ("最近", "最新", "刚买", "刚下", "上一单", "上一个订单", "刚才那单")


def normalise(text: Optional[str]) -> str:
    """Full-width digits and letters to half-width, spaces and dashes removed inside numbers."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"(?<=\d)[\s-]+(?=\d)", "", text)


def order_no_in(text: Optional[str]) -> Optional[str]:
    """A 16-19 digit run in the text."""
    for run in _DIGITS.findall(normalise(text)):
        if 16 <= len(run) <= 19:
            return run
    return None


def phone_tail_in(text: Optional[str], asked: bool) -> Optional[str]:
    """Last four phone digits: a 4-digit run when asked for or cued (尾号...),
    or the tail of a full 11-digit phone number."""
    clean = normalise(text)
    runs = _DIGITS.findall(clean)
    for run in runs:
        if len(run) == 11 and run.startswith("1"):
            return run[-4:]
    if asked or any(cue in clean for cue in _TAIL_CUES) or order_no_in(clean):
        for run in runs:
            if len(run) == 4:
                return run
    return None


def wants_latest_order(text: Optional[str]) -> bool:
    """'最近那单' and friends: the shopper means their most recent order."""
    clean = normalise(text)
    return any(cue in clean for cue in _LATEST_CUES)


def digits_only(value) -> str:
    return "".join(ch for ch in normalise(str(value or "")) if ch.isdigit())


def digit_runs(text: Optional[str]) -> list:
    """Every run of digits in the text, after normalising."""
    return _DIGITS.findall(normalise(text))


_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")


def plain_text(value, max_chars: int) -> Optional[str]:
    """Free text a shopper typed, fit to store: control and bidi characters and lone
    surrogates (which no database accepts) removed, trimmed; None if longer than ``max_chars``."""
    text = str(value or "").encode("utf-8", "replace").decode("utf-8")
    text = _UNSTORABLE.sub("", text).strip()
    return text if len(text) <= max_chars else None
