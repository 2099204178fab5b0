"""Normalise shopper text before tokenisation, keeping an offset map.

Shoppers write Traditional characters, full-width letters and digits, spaces
between characters and emoji. The model is trained on Simplified, half-width
text, so everything is brought to that form first. Every output character
remembers the index of the input character it came from, so entity spans
annotated on the raw training text can be moved onto the normalised text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

from bot.cantonese import to_mandarin

# Written Cantonese → Mandarin words (bot/cantonese.py), by default everywhere text is normalised.
CANTONESE_TO_MANDARIN = True

# Runs of the same punctuation mark are kept (they signal emotion) but capped.
MAX_PUNCT_RUN = 3
_PUNCT_FOLD = {"。": "。", "，": ",", "！": "!", "？": "?", "：": ":", "；": ";",
               "（": "(", "）": ")", "～": "~", "〜": "~"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Normalised:
    """The normalised text, the source index of each character, and what was removed."""

    text: str
    offsets: list[int]
    emoji: list[str] = field(default_factory=list)
    max_punct_run: int = 0

    def map_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Map a [start, end) span of the raw text onto the normalised text."""
        inside = [i for i, src in enumerate(self.offsets) if start <= src < end]
        if not inside:
            return None
        return inside[0], inside[-1] + 1


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def is_emoji(ch: str) -> bool:
    """True for pictographs, emoticons, symbols and their modifiers."""
    cp = ord(ch)
    if cp in (0x200D, 0xFE0F, 0xFE0E, 0x20E3):
        return True
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x1F1E6 <= cp <= 0x1F1FF:
        return True
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
        return True
    return unicodedata.category(ch) == "So"


def _to_simplified(text: str) -> str:
    """Traditional → Simplified, character for character so offsets stay exact.

    OpenCC's phrase rules may only change characters that are Traditional on their
    own: its t2s table turns the Simplified 万一坏了 into 万一坯了 (一坏 is read as a
    Traditional phrase), which would hide 坏 from every later component.
    """
    converted = _converter().convert(text)
    if len(converted) != len(text):
        converted = "".join(c if len(c := _converter().convert(ch)) == 1 else ch for ch in text)
    return "".join(new if new == old or _is_traditional(old) else old for old, new in zip(text, converted))


@lru_cache(maxsize=16384)
def _is_traditional(ch: str) -> bool:
    """The character changes when converted alone (壞 → 坏; 坏 stays 坏)."""
    return _converter().convert(ch) != ch


def _half_width(ch: str) -> str:
    cp = ord(ch)
    if 0xFF01 <= cp <= 0xFF5E:
        ch = chr(cp - 0xFEE0)
    elif cp == 0x3000 or unicodedata.category(ch) == "Zs":
        ch = " "
    return _PUNCT_FOLD.get(ch, ch)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\n\t"


def normalise(raw: str, cantonese: bool = CANTONESE_TO_MANDARIN) -> Normalised:
    """Return the normalised form of ``raw`` with its offset map (written Cantonese in
    Mandarin words too, unless ``cantonese`` is false: bot/cantonese.py)."""
    text = _to_simplified(raw)
    if cantonese:
        text = to_mandarin(text)
    chars: list[str] = []
    offsets: list[int] = []
    emoji: list[str] = []
    max_run = 0
    run_char, run_len = "", 0
    for i, ch in enumerate(text):
        if is_emoji(ch):
            if ord(ch) not in (0x200D, 0xFE0F, 0xFE0E):
                emoji.append(raw[i])
            ch = " "
        elif _is_control(ch):
            continue
        else:
            ch = _half_width(ch)
        if ch.isspace():
            ch = " "
        if ch == run_char and not ch.isalnum() and not _CJK.match(ch):
            run_len += 1
            max_run = max(max_run, run_len) if ch != " " else max_run
            if run_len > (1 if ch == " " else MAX_PUNCT_RUN):
                continue
        else:
            run_char, run_len = ch, 1
            if not ch.isalnum() and not ch.isspace() and not _CJK.match(ch):
                max_run = max(max_run, 1)
        chars.append(ch)
        offsets.append(i)
    _drop_spaces(chars, offsets)
    return Normalised("".join(chars), offsets, emoji, max_run)


def _drop_spaces(chars: list[str], offsets: list[int]) -> None:
    """Remove leading/trailing spaces and spaces that touch a Chinese character.

    "我 要 退 货" becomes "我要退货"; "iPhone 15" keeps its space.
    """
    keep = []
    for i, ch in enumerate(chars):
        if ch == " ":
            prev = chars[i - 1] if i > 0 else ""
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            if not prev or not nxt or prev == " " or _CJK.match(prev) or _CJK.match(nxt):
                continue
            if not prev.isalnum() or not nxt.isalnum():
                continue
        keep.append(i)
    chars[:] = [chars[i] for i in keep]
    offsets[:] = [offsets[i] for i in keep]


# A phrase needs this many characters for the space after it to end a clause: 骗 子 and
# 我 要 退 货 are spaced-out characters, 服了 每次都说在处理 is two phrases.
_PHRASE_MIN = 2


def clause_gaps(raw: str, result: Normalised) -> list[int]:
    """Indices of ``result.text`` where the shopper separated two phrases with spaces or emoji.

    Chat users write spaces instead of commas (会过敏吗 我皮肤比较敏感 想买那个修护精华). The
    normaliser drops spaces next to Chinese characters, which joins such phrases into one
    clause; these indices let a scorer see the break again. A gap counts only between two
    chunks of at least two characters, so spaced-out words (骗 子) stay whole.
    """
    text, offsets = result.text, result.offsets
    if len(offsets) != len(text) or len(text) < 2 * _PHRASE_MIN:
        return []
    candidates: list[int] = []
    for i in range(1, len(text)):
        if text[i].isspace() or text[i - 1].isspace():
            continue
        gap = raw[offsets[i - 1] + 1:offsets[i]]
        if any(ch.isspace() or (is_emoji(ch) and ord(ch) not in (0x200D, 0xFE0F, 0xFE0E, 0x20E3)) for ch in gap):
            candidates.append(i)
    if not candidates:
        return []
    bounds = [0] + candidates + [len(text)]
    return [cut for k, cut in enumerate(candidates, start=1)
            if cut - bounds[k - 1] >= _PHRASE_MIN and bounds[k + 1] - cut >= _PHRASE_MIN]


# 电饭煲呢 / 那破壁机呢？ / 羽绒服也是吗 / 粉色的呢: the same question about something else.
# Short, and nothing but "that thing" and a particle: a longer message asks something new.
_ELLIPTICAL_FOLLOW_UP = re.compile(
    r"(那|那么|那个|还有|再问下)?\s*[^,.!?，。！？、为怎什么没不还吗啥哪几多谁咋]{1,10}?"
    r"(呢|咧|嘞|也是吗|也一样吗|也这样吗)\s*[?？~～!！.。]*")


def is_elliptical_follow_up(text: str) -> bool:
    """The message only asks the previous question again about another thing (那XL呢)."""
    return bool(_ELLIPTICAL_FOLLOW_UP.fullmatch((text or "").strip()))
