"""Is a "no" said while a form asks a question a refusal, or an answer that starts with 不?

While the return form asks why (请问退货的原因是什么呢？), shoppers answer 不喜欢了, 不合适,
不太满意 — reasons that the NLU may classify as ``deny``. Only a bare refusal (不退了, 算了吧,
不用了, no) gives up on the request; anything that says more is an answer. A message is bare
when, once normalised, it is short and made only of refusal words and fillers: whatever is
left over (喜欢, 合适, 颜色好看) is content, so the message is an answer.
"""
from __future__ import annotations

import re
from typing import Optional

from bot.textnorm import normalise

# Words that give up on the request, in Simplified Chinese (Traditional and written Cantonese
# are normalised first: 不退了啦, 唔使喇 → 不用喇). Longest first when removed, so 不想退
# is taken whole. 不想要了 is deliberately absent: it is the classic no-reason return reason
# (不 + 想要 leaves 想要, content), while 不要了 is a refusal.
REFUSAL_WORDS: tuple[str, ...] = (
    "不退货", "不想退", "不要退", "不退", "别退",
    "不换货", "不想换", "不要换", "不换", "别换",
    "不申请", "不办", "不弄", "不处理",
    "算了", "不用", "不需要", "不必", "不要", "不了", "不",
    "取消", "撤销", "放弃", "没事",
    "no", "nope", "cancel",
)

# Words that may surround a refusal without adding content: particles, 那/还是/先/暂时,
# thanks, and what is being given up (退货申请, 这单).
FILLER_WORDS: tuple[str, ...] = (
    "那就", "那", "还是", "我", "先", "暂时", "就", "吧", "啦", "了", "呢", "啊", "呀", "哦", "噢",
    "嗯", "哈", "哎", "唉", "诶", "喇", "啰", "好的", "谢谢", "退货", "换货", "申请", "这个", "这单",
)

# A longer message carries more than a refusal, even if it is built from these words.
MAX_BARE_CHARS = 12

_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_REMOVAL_ORDER = sorted(set(REFUSAL_WORDS + FILLER_WORDS), key=len, reverse=True)


def _clean(text: str) -> str:
    """Simplified, half-width, lower case, without spaces, punctuation or emoji."""
    return _NOT_WORD.sub("", normalise(text).text.lower())


def is_bare_refusal(text: Optional[str]) -> bool:
    """True when the message only refuses (不退了, 算了吧, 不用了啦, no) and states nothing else."""
    clean = _clean(text or "")
    if not clean or len(clean) > MAX_BARE_CHARS:
        return False
    if not any(word in clean for word in REFUSAL_WORDS):
        return False
    for word in _REMOVAL_ORDER:
        clean = clean.replace(word, "")
    return clean == ""
