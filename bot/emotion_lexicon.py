"""Word lists behind the emotion scorer, loaded from data/emotion/*.txt.

The lists are plain text so a trainer can extend them without touching code
(format in data/emotion/README.md). Everything is compiled once into a few
regular expressions: one alternation of all words (longest first, so
``不满意`` wins over ``满意``), the ``re:`` patterns, the intensifiers and the
negators. Scanning a message is then a handful of ``finditer`` calls.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "emotion"
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "data" / "catalogue"

# File name -> (category, default weight). Categories the scorer knows.
WEIGHTED_FILES = {
    "abuse": ("abuse", 0.7),
    "negative": ("negative", 0.3),
    "impatience": ("impatience", 0.1),
    "threats": ("threat", 0.5),
    "safety": ("safety", 0.2),
    "sarcasm_markers": ("sarcasm", 0.45),
    "ironic_praise": ("ironic", 0.45),
    "complaint_context": ("context", 0.0),
    "praise": ("praise", 0.0),
    "neutral": ("neutral", 0.0),
}
# Lists whose every entry carries a tag the scorer treats specially (bot/emotion.py):
# exasperation (服了, 心累) weighs more next to a complaint; an ultimatum (看着办, 最好给我个解释)
# is a threat when the message names a lever (levers.txt: 粉丝, 律师, 差评 ...).
TAGGED_FILES = {
    "exasperation": ("negative", 0.35, "exasperation"),
    "ultimatums": ("negative", 0.3, "ultimatum"),
}
# Line tags: ``event`` (a safety cue that counts inside a question: 孩子误食), ``exposure``
# (孩子吃了: counts, even in a question, only when the message also says something is wrong).
LINE_TAGS = ("event", "exposure")
# Characters allowed between a negator and the cue it cancels (不会给差评,
# 并不是很生气, 没有要投诉): auxiliaries, degree words, light verbs.
NEGATION_FILLERS = ("给", "要", "想", "会", "是", "太", "很", "那么", "有", "打算", "就",
                    "再", "去", "在", "算", "感到", "觉得", "说", "特别", "怎么", "对",
                    "对你们", "对您", "真的", "什么", "任何", "一点", "的",
                    # 我没有收到假货 / 没买到过次品: the shopper says it did not happen to them.
                    "收到", "买到", "遇到", "碰到", "拿到", "收到过", "买到过", "遇到过", "碰到过")


@dataclass(frozen=True)
class Entry:
    """One cue: its category, weight, optional tag (e.g. ``event``) and source text."""

    category: str
    weight: float
    name: str
    tag: str = ""


@dataclass
class Lexicon:
    """Compiled word lists."""

    words: dict[str, list[Entry]] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], Entry]] = field(default_factory=list)
    intensifiers: dict[str, float] = field(default_factory=dict)
    negators: tuple[str, ...] = ()
    emoji: dict[str, float] = field(default_factory=dict)
    # Subjects outside the shop (追剧, 老公, 考试): anger about them is not about us.
    offtopic: list[str] = field(default_factory=list)
    # What a shopper can hold over the shop (粉丝, 律师, 差评): with an ultimatum, a threat.
    levers: list[str] = field(default_factory=list)
    word_regex: re.Pattern[str] | None = None
    intensifier_regex: re.Pattern[str] | None = None
    offtopic_regex: re.Pattern[str] | None = None
    lever_regex: re.Pattern[str] | None = None

    def compile(self) -> "Lexicon":
        self.word_regex = _alternation(self.words)
        self.intensifier_regex = _alternation(self.intensifiers)
        # A separate regex, not the word trie: an off-topic word must never hide a cue.
        self.offtopic_regex = _alternation(self.offtopic)
        # Separate too: 做律师 is neutral in the word trie (no threat alone) but still a lever.
        self.lever_regex = _alternation(self.levers)
        self.negators = tuple(sorted(set(self.negators), key=len, reverse=True))
        return self


def _alternation(words) -> re.Pattern[str] | None:
    """One regex matching any of ``words``, the longest at each position.

    Words are merged into a trie (共同前缀 shared), which Python's regex
    engine walks several times faster than a flat alternation of hundreds of
    words. Latin/digit words must not be part of a longer token (315 inside
    an order number), so they get look-around guards in a separate branch.
    """
    words = list(words)
    if not words:
        return None
    latin = [w for w in words if w.isascii() and w.isalnum()]
    other = [w for w in words if not (w.isascii() and w.isalnum())]
    parts = []
    if other:
        parts.append(_trie_pattern(other))
    if latin:
        alts = "|".join(re.escape(w) for w in sorted(latin, key=len, reverse=True))
        parts.append(rf"(?<![0-9a-z])(?:{alts})(?![0-9a-z])")
    return re.compile("|".join(parts))


def _trie_pattern(words: list[str]) -> str:
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _lines(path: Path):
    """(text, value) per entry; value is the second column or None."""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("re:") else raw.strip()
        if line.startswith("re:") and " #" in line:
            line = line.split(" #", 1)[0].strip()
        if not line:
            continue
        parts = line.rsplit(None, 1)
        if len(parts) == 2 and _is_value(parts[1]):
            yield parts[0].strip(), parts[1]
        else:
            yield line, None


def _is_value(token: str) -> bool:
    if token in LINE_TAGS:
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def _add_catalogue_names(lex: Lexicon, directory: str | Path | None) -> None:
    """Product and carrier names that contain a cue are neutral (空气炸锅 holds 气炸)."""
    try:
        from bot.catalogue import load_catalogue

        folder = Path(directory) if directory else CATALOGUE_DIR
        names = load_catalogue(folder).words()
    except Exception:  # the scorer works without a catalogue
        return
    cues = [w for w, entries in lex.words.items() if any(e.category != "neutral" for e in entries)]
    for name in names:
        word = name.lower()
        if word not in lex.words and any(cue in word for cue in cues):
            lex.words[word] = [Entry("neutral", 0.0, word)]


def load_lexicon(directory: str | Path | None = None,
                 catalogue_dir: str | Path | None = None) -> Lexicon:
    """Read every list in ``directory`` (default data/emotion) and compile it.

    Catalogue names (``catalogue_dir``, default data/catalogue) that contain a
    cue word are added as neutral words so they never fire.
    """
    base = Path(directory) if directory else DEFAULT_DIR
    if not base.is_dir():
        raise FileNotFoundError(f"emotion word lists not found in {base}")
    lex = Lexicon()
    files = [(stem, category, default, "") for stem, (category, default) in WEIGHTED_FILES.items()]
    files += [(stem, category, default, tag) for stem, (category, default, tag) in TAGGED_FILES.items()]
    for stem, category, default, file_tag in files:
        path = base / f"{stem}.txt"
        if not path.exists():
            continue
        for text, value in _lines(path):
            tag = value if value in LINE_TAGS else file_tag
            weight = default if value is None or value in LINE_TAGS else min(max(float(value), 0.0), 0.95)
            if text.startswith("re:"):
                entry = Entry(category, weight, text[3:], tag)
                lex.patterns.append((re.compile(text[3:]), entry))
            else:
                word = text.lower()
                lex.words.setdefault(word, []).append(Entry(category, weight, word, tag))
    for text, value in _lines(base / "intensifiers.txt"):
        lex.intensifiers[text.lower()] = float(value) if value is not None and value not in LINE_TAGS else 1.2
    lex.negators = tuple(text for text, _ in _lines(base / "negators.txt"))
    if (base / "offtopic.txt").exists():
        lex.offtopic = [text.lower() for text, _ in _lines(base / "offtopic.txt")]
    if (base / "levers.txt").exists():
        lex.levers = [text.lower() for text, _ in _lines(base / "levers.txt")]
    _add_catalogue_names(lex, catalogue_dir)
    for text, value in _lines(base / "emoji.txt"):
        lex.emoji[text.replace("\ufe0f", "")] = float(value) if value is not None and value not in LINE_TAGS else 0.2
    return lex.compile()


@lru_cache(maxsize=4)
def cached_lexicon(directory: str | None = None) -> Lexicon:
    """One compiled lexicon per directory for the whole process."""
    return load_lexicon(directory)
