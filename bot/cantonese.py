"""Written Cantonese → Mandarin, so Cantonese-flavoured messages meet the Mandarin training data.

Hong Kong and Macau shoppers write 有冇得揀中通, 澳門收唔收到貨, 幾時先到呀等咗好耐. After
OpenCC these are Simplified but still Cantonese (有冇得拣, 收唔收到, 等咗好耐): words the
Mandarin examples never contain. Mapping the unambiguous Cantonese words to their Mandarin
equivalents lets everything learned from Mandarin apply (and the emotion cues too: 冇用 → 没用).

Only replacements of equal length, so every character keeps its source offset
(bot/textnorm.py maps entity spans through them). Phrases first, longest first; then single
characters that are Cantonese-only. Applied to Simplified text (after OpenCC), so keys are
Simplified: 係 has already become 系, which is why 系 is only mapped inside phrases.
"""
from __future__ import annotations

import re
from functools import lru_cache

PHRASES: dict[str, str] = {
    "系唔系": "是不是", "系咪": "是否", "唔系": "不是", "真系": "真是", "就系": "就是", "都系": "都是",
    "唔该": "谢谢", "唔使": "不用", "唔好": "不要", "唔啱": "不对", "唔得": "不行", "唔知": "不知",
    "点样": "怎样", "点解": "为何", "边度": "哪里", "边个": "哪个", "边间": "哪家",
    "几耐": "多久", "好耐": "好久", "几多": "多少", "几时": "何时", "而家": "现在", "得闲": "有空", "乜嘢": "什么",
    "琴日": "昨天", "寻日": "昨天", "听日": "明天", "今日": "今天", "佢哋": "他们", "我哋": "我们",
    "你哋": "你们", "咁样": "这样", "咩事": "何事", "搞掂": "搞定", "冇问题": "没问题",
}
# Phrases that are also the start of a Mandarin word: 好耐 (Cantonese 好久) is not 好耐心, 好耐用,
# 好耐看, 好耐穿, 好耐磨, 好耐脏 (praise of patience and durability).
GUARDS: dict[str, str] = {"好耐": "(?![心用看穿磨脏热寒洗摔晒火])"}
CHARS: dict[str, str] = {
    "唔": "不", "冇": "没", "咗": "了", "嘅": "的", "佢": "他", "哋": "们", "喺": "在", "睇": "看",
    "搵": "找", "揾": "找", "嚟": "来", "啲": "些", "畀": "给", "俾": "给", "攞": "拿",
}


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    keys = sorted(PHRASES, key=len, reverse=True) + list(CHARS)
    return re.compile("|".join(re.escape(key) + GUARDS.get(key, "") for key in keys))


def to_mandarin(text: str) -> str:
    """The same text with Cantonese words in Mandarin; same length as ``text``."""
    if not text:
        return text
    return _pattern().sub(lambda m: PHRASES.get(m.group(0)) or CHARS[m.group(0)], text)


assert all(len(k) == len(v) for k, v in {**PHRASES, **CHARS}.items()), "replacements must keep offsets"
