"""Complexity cues in one message's text: double charge, bot not helping, ...

The lists live in data/escalation/cues.yml so a trainer can extend them;
this module compiles them once and answers "which cues fire in this text".
Input is the normalised text (what the NLU pipeline puts in ``text``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from bot.textnorm import clause_gaps, normalise

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "escalation" / "cues.yml"
FLAT_LISTS = ("double_charge", "bot_not_helping", "corrects_bot", "repeated_asking", "asks_again", "cannot_verify", "parcel_found", "suggestion", "compensation", "damage", "not_received",
              "refund_words", "overdue", "dispute", "human_request", "human_negated", "human_neutral",
              "human_asked_about")
_CLAUSE = re.compile(r"[,.!?;:~，。！？；：、\s]")
# 如果丢件了怎么办: asking about a risk, not reporting a lost parcel.
_HYPOTHETICAL = re.compile(r"如果|万一|假如|要是|假设|倘若|的话|会不会|是否会|担心")
# 没有被扣两次 / 不用赔偿: the problem word is denied; 如果被扣了两次: asked about, not reported.
_DENIED_BEFORE = re.compile(r"(没有|并没有|没|不是|不用|不需要|无需|不要|也不用)(被|再|也)?$")
_ASKED_ABOUT = re.compile(r"如果|万一|假如|要是")
# 卡了两天 / 昨天就该到了: a delay of a day or two, unless the parcel is said to be gone.
_SHORT_DELAY = re.compile(r"(?<![十几0-9])(一|两|二|1|2|半)(天|日)|今天|昨天")
# 好慢啊 物流一直卡在中转站: slow or stuck with no wait stated is a delay the bot tracks;
# 卡在中转站一个礼拜了 says how long, and a long wait may be a lost parcel.
_STUCK = re.compile(r"卡在|卡住|不动|没更新|不更新|没动静|停在|好慢|太慢|很慢|慢死|龟速|慢吞吞")
_WAITED = re.compile(r"(\d+|[一二三四五六七八九十两几半多好]+)个?(天|日|周|星期|礼拜|月)|很久|好久|这么久|老半天")
_GONE = re.compile(r"丢|不见|找不到|没收到|签收|弄没|被人拿")
# 是我看错了 / 搞错了: the shopper withdraws what they reported.
_MISREAD = re.compile(r"(我)?(看错|搞错|弄错|记错)了(?![吗嘛么?]|没有)|误会了(?![吗嘛么?])")
# 帮朋友问下 他在别的店买的…: someone else's case at another shop, with nothing of ours named.
_OTHER_SHOP = re.compile(r"别的店|别的商家|别家|别人家|其他店|其它店|其他家|其他商家|另一家|另外一家|隔壁店|那家店")
_ON_BEHALF = re.compile(r"(帮|替|给)(我)?(朋友|同事|家人|别人|闺蜜|同学|室友|亲戚|邻居|我妈|我爸|老妈|老爸)(问|咨询)")
_OURS = re.compile(r"你们|你家|您家|贵店|本店|我的(订单|快递|包裹|件|东西|货)")
# 不是说你回答没用 / 还以为你答非所问了: the complaint about the bot is taken back.
_TAKEN_BACK = re.compile(r"(不是说|并不是说|并不是|不是嫌|不是觉得|还以为|以为|没说)[^,.!?;，。！？；]{0,6}$")


def _compile(items: list[str]) -> re.Pattern[str] | None:
    parts = []
    for item in sorted((str(i) for i in items or []), key=len, reverse=True):
        parts.append(item[3:] if item.startswith("re:") else re.escape(item.lower()))
    return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None


@dataclass
class CueBook:
    """Compiled cue lists."""

    lists: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    problems: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # Things the shopper asks the shop to do (cancel, change the address, invoice ...): with
    # problems they count towards "several problems at once", alone two of them do not.
    requests: dict[str, re.Pattern[str] | None] = field(default_factory=dict)
    # 1. … 2. …, 第一…第二…, 三个事：: the message lists its points.
    enumeration: re.Pattern[str] | None = None
    joiners: re.Pattern[str] | None = None
    multi_issue_min_groups: int = 3
    multi_issue_two_in_clauses: bool = True
    # Groups that name one problem (late, not_received): counted once for "several problems".
    same_problem: dict[str, str] = field(default_factory=dict)

    def find(self, name: str, text: str) -> str | None:
        """The first match of list ``name`` in ``text``, or None."""
        pattern = self.lists.get(name)
        m = pattern.search(text) if pattern is not None else None
        return m.group(0) if m else None

    def problem_groups(self, text: str) -> list[str]:
        """Names of the problem groups (wrong_item, late ...) the text mentions."""
        return list(dict.fromkeys(g for g, _, _ in self.problem_spans(text)))

    def problem_spans(self, text: str) -> list[tuple[str, int, int]]:
        """(group, start, end) of each problem mention; of overlapping ones the longest
        wins, so 还没收到退款 is a refund problem, not also a late parcel."""
        found = [(g, m.start(), m.end()) for g, p in self.problems.items() if p is not None
                 for m in p.finditer(text)]
        kept: list[tuple[str, int, int]] = []
        for g, s, e in sorted(found, key=lambda x: (x[1] - x[2], x[1])):
            if not any(s < ke and ks < e for _, ks, ke in kept):
                kept.append((g, s, e))
        return sorted(kept, key=lambda x: x[1])

    def request_groups(self, text: str) -> list[str]:
        """Names of the request groups (cancel, change_address ...) the text asks for."""
        return [g for g, p in self.requests.items() if p is not None and p.search(text)]

    def enumerates(self, text: str) -> bool:
        """The message numbers its points (two markers at least) or announces several."""
        return bool(self.enumeration and len(self.enumeration.findall(text)) >= 2)

    def has_joiner(self, text: str) -> bool:
        return bool(self.joiners and self.joiners.search(text))


def load_cues(path: str | Path | None = None) -> CueBook:
    """Read cues.yml (default data/escalation/cues.yml)."""
    file = Path(path) if path else DEFAULT_FILE
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    book = CueBook()
    for name in FLAT_LISTS:
        book.lists[name] = _compile(data.get(name) or [])
    for group, words in (data.get("problems") or {}).items():
        book.problems[str(group)] = _compile(words)
    for group, words in (data.get("requests") or {}).items():
        book.requests[str(group)] = _compile(words)
    book.enumeration = _compile(data.get("enumeration") or [])
    book.joiners = _compile(data.get("joiners") or [])
    book.multi_issue_min_groups = int(data.get("multi_issue_min_groups", 3))
    book.multi_issue_two_in_clauses = bool(data.get("multi_issue_two_in_clauses", True))
    for names in data.get("same_problem") or []:
        names = [str(n) for n in names]
        for name in names[1:]:
            book.same_problem[name] = names[0]
    return book


@lru_cache(maxsize=4)
def cached_cues(path: str | None = None) -> CueBook:
    return load_cues(path)


@dataclass
class TextSignals:
    """Which complexity cues one message shows (each value: the words that fired)."""

    double_charge: str | None = None
    bot_not_helping: str | None = None
    corrects_bot: str | None = None
    repeated_asking: str | None = None
    # 再问一遍: a loop only when an earlier turn asked about the same thing (the policy checks).
    asks_again: str | None = None
    cannot_verify: str | None = None
    parcel_found: str | None = None
    suggestion: str | None = None
    compensation: str | None = None
    damage: str | None = None
    not_received: str | None = None
    overdue: str | None = None
    refund_overdue: str | None = None
    dispute: str | None = None
    human_request: str | None = None
    human_negated: str | None = None
    human_neutral: str | None = None
    # 人工客服几点上班 / 你是真人还是机器人: asks about agents, wants none now.
    human_asked_about: str | None = None
    problem_groups: list[str] = field(default_factory=list)
    request_groups: list[str] = field(default_factory=list)
    multi_issue: bool = False
    # The message asks about a possibility (万一丢了会补发吗), it does not report a case.
    asked_about: bool = False
    # The parcel is a day or two late, or slow/stuck with no wait stated, and not said to be gone.
    short_delay: bool = False


def text_signals(text: str, book: CueBook | None = None) -> TextSignals:
    """The complexity cues in one normalised message."""
    book = book or cached_cues()
    # The tracker keeps what the shopper typed (Traditional, full width ...): normalise here too,
    # or 扣了兩次 would miss 扣了两次. Normalising normalised text changes nothing.
    raw = text or ""
    result = normalise(raw)
    text = result.text.lower()
    # The shopper's spaces end clauses as commas do (一共买了三样 两样没到 到的那个还是坏的).
    gaps = set(clause_gaps(raw, result))
    if gaps:
        text = "".join(" " + ch if i in gaps else ch for i, ch in enumerate(text))
    someone_else = bool(_OTHER_SHOP.search(text) or _ON_BEHALF.search(text)) and not _OURS.search(text)
    # 人工客服几点上班 asks about agents: those words do not count as asking for one.
    about_agents = book.find("human_asked_about", text)
    found = TextSignals(
        double_charge=None if _MISREAD.search(text) else _reported(book, "double_charge", text),
        bot_not_helping=_unless_taken_back(book, "bot_not_helping", text),
        corrects_bot=book.find("corrects_bot", text),
        repeated_asking=book.find("repeated_asking", text),
        asks_again=book.find("asks_again", text),
        cannot_verify=_reported(book, "cannot_verify", text),
        parcel_found=book.find("parcel_found", text),
        suggestion=book.find("suggestion", text),
        compensation=_reported(book, "compensation", text),
        damage=book.find("damage", text),
        not_received=None if _HYPOTHETICAL.search(text) or someone_else else book.find("not_received", text),
        dispute=_reported(book, "dispute", text),
        human_request=book.find("human_request", _without(book, "human_asked_about", text) if about_agents else text),
        human_negated=book.find("human_negated", text),
        human_neutral=book.find("human_neutral", text),
        human_asked_about=about_agents,
    )
    # 万一丢了会补发吗 asks about a risk; 帮朋友问下 他在别家买的显示签收了没收到 is someone else's case.
    found.asked_about = bool(_ASKED_ABOUT.match(text)) or someone_else
    found.short_delay = bool(_SHORT_DELAY.search(text) or (_STUCK.search(text) and not _WAITED.search(text))
                             ) and not _GONE.search(text)
    found.overdue = book.find("overdue", text)
    if found.overdue and book.find("refund_words", text):
        found.refund_overdue = found.overdue
    # 要是压坏了怎么处理 asks about a problem; 东西没有坏 denies one: neither is a problem to settle.
    spans = [sp for sp in book.problem_spans(text) if not _denied_or_asked_about(text[:sp[1]])]
    groups = list(dict.fromkeys(g for g, _, _ in spans))
    found.problem_groups = groups
    if not found.damage:
        # The problem vocabulary knows more ways to say "damaged" (压瘪了一块, 插上没反应).
        found.damage = next((text[s:e] for g, s, e in spans if g == "damaged"), None)
    found.request_groups = [g for g in book.request_groups(text) if g not in groups]
    # 又延迟了 东西还没到: a late parcel named twice is one problem to settle.
    merged = [(book.same_problem.get(g, g), s, e) for g, s, e in spans]
    found.multi_issue = _several_problems(text, book, merged, list(dict.fromkeys(g for g, _, _ in merged)),
                                          found.request_groups)
    return found


def _several_problems(text: str, book: CueBook, spans: list[tuple[str, int, int]], groups: list[str],
                      requests: list[str]) -> bool:
    """Several problems at once: three problem groups; two listed as two; or a problem among
    at least three things to settle (一个要取消，一个要改地址，还有个赠品没收到), or two when the
    shopper numbers them (1.地址要改 2.耳机没声音). Requests alone (取消订单，顺便开个发票) are
    routine work the bot does one after the other."""
    if len(groups) >= book.multi_issue_min_groups:
        return True
    if len(groups) >= 2 and (book.has_joiner(text) or (
            book.multi_issue_two_in_clauses and _in_different_clauses(text, spans))):
        return True
    if book.has_joiner(text) and _distinct_faults_listed(text, spans):  # 掉色严重，而且尺码偏小
        return True
    things = len(groups) + len(requests)
    return bool(groups) and (things >= 3 or (things >= 2 and book.enumerates(text)))


def _without(book: CueBook, name: str, text: str) -> str:
    """The text with every match of list ``name`` blanked out (so other lists skip those words)."""
    pattern = book.lists.get(name)
    return pattern.sub(lambda m: " " * len(m.group(0)), text) if pattern is not None else text


def _first_match_unless(book: CueBook, name: str, text: str, cancelled: Callable[[str], bool]) -> str | None:
    """The first match of list ``name`` whose preceding text does not cancel it."""
    pattern = book.lists.get(name)
    if pattern is None:
        return None
    for m in pattern.finditer(text):
        if not cancelled(text[:m.start()]):
            return m.group(0)
    return None


def _denied_or_asked_about(before: str) -> bool:
    """没有被扣两次 / 不用赔偿 deny the problem; 如果被扣了两次怎么办 asks about it."""
    clause = _CLAUSE.split(before)[-1]
    return bool(_DENIED_BEFORE.search(clause) or _ASKED_ABOUT.search(clause))


def _reported(book: CueBook, name: str, text: str) -> str | None:
    """The first match of list ``name`` that its clause neither denies nor asks about."""
    return _first_match_unless(book, name, text, _denied_or_asked_about)


def _unless_taken_back(book: CueBook, name: str, text: str) -> str | None:
    """The first match of list ``name`` that the shopper does not take back just before it."""
    return _first_match_unless(book, name, text, lambda before: bool(_TAKEN_BACK.search(before)))


def _distinct_faults_listed(text: str, spans: list[tuple[str, int, int]]) -> bool:
    """Two different problem words in different clauses (not one problem said twice)."""
    for i, (_, s1, e1) in enumerate(spans):
        for _, s2, e2 in spans[i + 1:]:
            if text[s1:e1] != text[s2:e2] and _CLAUSE.search(text, e1, s2) is not None:
                return True
    return False


def _in_different_clauses(text: str, spans: list[tuple[str, int, int]]) -> bool:
    """Two different problem groups separated by punctuation: two problems listed."""
    for i, (g1, _, e1) in enumerate(spans):
        for g2, s2, _ in spans[i + 1:]:
            if g2 != g1 and _CLAUSE.search(text, e1, s2) is not None:
                return True
    return False
