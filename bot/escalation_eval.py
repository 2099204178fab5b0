"""The held-out escalation set: labelled shopper conversations, loaded and checked.

data/test/escalation_conversations.yml holds short conversations (1-3 shopper
turns; the bot's replies are not written) with what a human reviewer expects
the bot to do: hand off or not, by which turn, and at which queue level. The
end-to-end evaluation (issue 5) replays them against the running bot; it is
never used to train the detector or tune its thresholds.

The file is hand-written, so loading it is strict: a bad field raises
EscalationSetError naming the conversation and the field, instead of silently
skewing the measured figures.

Run `python -m bot.escalation_eval [path]` to print the set's composition.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data/test/escalation_conversations.yml"
SUPPORTED_VERSIONS = ("1",)
MAX_TURNS = 3

# Categories whose conversations the bot must answer itself (the "must-not" set).
MUST_NOT_CATEGORIES = ("calm_routine", "mild_impatience", "negation_praise")
# Categories whose conversations must reach a human.
MUST_CATEGORIES = (
    "explicit_request", "anger", "threat", "safety", "double_charge",
    "complex_case", "loop", "bot_not_helping", "multi_issue",
)
CATEGORIES = MUST_NOT_CATEGORIES + MUST_CATEGORIES

LEVELS = ("urgent", "high", "normal")
# The issue's priority rules: safety, double charges and threats → urgent;
# anger, complaints, lost parcels → high; calm explicit requests and loops → normal.
# A shopper who says the bot is useless may be calm (normal) or abusive (high);
# several problems in one message are a complaint (high), urgent when one of
# them is a double charge or a safety problem.
ALLOWED_LEVELS: dict[str, tuple[str, ...]] = {
    "explicit_request": ("normal",),
    "loop": ("normal",),
    "bot_not_helping": ("normal", "high"),
    "anger": ("high",),
    "complex_case": ("high",),
    "multi_issue": ("high", "urgent"),
    "threat": ("urgent",),
    "safety": ("urgent",),
    "double_charge": ("urgent",),
}

_FIELDS = ("id", "category", "turns", "expect_handoff", "handoff_by_turn", "expected_level", "notes")


class EscalationSetError(ValueError):
    """The escalation set file is malformed; the message says where and why."""


@dataclass(frozen=True)
class EscalationCase:
    """One labelled conversation: the shopper's messages and the expected outcome."""

    id: str
    category: str
    turns: tuple[str, ...]
    expect_handoff: bool
    handoff_by_turn: Optional[int]  # 1-based; None when no handoff is expected
    expected_level: Optional[str]  # urgent | high | normal; None when no handoff
    notes: Optional[str] = None

    @property
    def text(self) -> str:
        """All shopper turns joined, for composition checks."""
        return "\n".join(self.turns)


@dataclass(frozen=True)
class EscalationSet:
    """The whole labelled set, in file order."""

    version: str
    conversations: tuple[EscalationCase, ...]

    @property
    def must_handoff(self) -> list[EscalationCase]:
        return [c for c in self.conversations if c.expect_handoff]

    @property
    def must_not_handoff(self) -> list[EscalationCase]:
        return [c for c in self.conversations if not c.expect_handoff]

    def by_category(self) -> dict[str, list[EscalationCase]]:
        grouped: dict[str, list[EscalationCase]] = {c: [] for c in CATEGORIES}
        for case in self.conversations:
            grouped[case.category].append(case)
        return grouped


def _fail(where: str, field: str, problem: str) -> EscalationSetError:
    return EscalationSetError(f"{where}: field '{field}': {problem}")


def _parse_case(raw: Any, index: int) -> EscalationCase:
    """Validate one conversation mapping; `index` is its 0-based position in the file."""
    if not isinstance(raw, dict):
        raise EscalationSetError(f"conversation #{index + 1}: expected a mapping, got {type(raw).__name__}")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise _fail(f"conversation #{index + 1}", "id", f"expected a non-empty string, got {case_id!r}")
    where = f"conversation '{case_id}' (#{index + 1})"

    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise _fail(where, unknown[0], f"unknown field (allowed: {', '.join(_FIELDS)})")
    missing = [f for f in _FIELDS if f != "notes" and f not in raw]
    if missing:
        raise _fail(where, missing[0], "missing")

    category = raw["category"]
    if category not in CATEGORIES:
        raise _fail(where, "category", f"{category!r} is not one of {', '.join(CATEGORIES)}")

    turns = raw["turns"]
    if not isinstance(turns, list) or not 1 <= len(turns) <= MAX_TURNS:
        raise _fail(where, "turns", f"expected a list of 1 to {MAX_TURNS} shopper messages, got {turns!r}")
    for n, turn in enumerate(turns, start=1):
        if not isinstance(turn, str) or not turn.strip():
            raise _fail(where, "turns", f"turn {n} must be a non-empty string, got {turn!r} (quote it in YAML)")

    expect = raw["expect_handoff"]
    if not isinstance(expect, bool):
        raise _fail(where, "expect_handoff", f"expected true or false, got {expect!r}")
    if expect != (category in MUST_CATEGORIES):
        wanted = "true" if category in MUST_CATEGORIES else "false"
        raise _fail(where, "expect_handoff", f"must be {wanted} for category {category}")

    by_turn = raw["handoff_by_turn"]
    level = raw["expected_level"]
    if expect:
        if isinstance(by_turn, bool) or not isinstance(by_turn, int) or not 1 <= by_turn <= len(turns):
            raise _fail(where, "handoff_by_turn", f"expected a turn number from 1 to {len(turns)}, got {by_turn!r}")
        if level not in LEVELS:
            raise _fail(where, "expected_level", f"expected one of {', '.join(LEVELS)}, got {level!r}")
        if level not in ALLOWED_LEVELS[category]:
            raise _fail(where, "expected_level",
                        f"{level!r} contradicts category {category} (allowed: {', '.join(ALLOWED_LEVELS[category])})")
    else:
        if by_turn is not None:
            raise _fail(where, "handoff_by_turn", f"must be null when no handoff is expected, got {by_turn!r}")
        if level is not None:
            raise _fail(where, "expected_level", f"must be null when no handoff is expected, got {level!r}")

    notes = raw.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise _fail(where, "notes", f"expected a string, got {notes!r}")

    return EscalationCase(
        id=case_id, category=category, turns=tuple(t.strip() for t in turns),
        expect_handoff=expect, handoff_by_turn=by_turn, expected_level=level, notes=notes,
    )


def parse_escalation_set(document: Any, source: str = "<document>") -> EscalationSet:
    """Validate an already-parsed YAML document (a mapping with version and conversations)."""
    if not isinstance(document, dict):
        raise EscalationSetError(f"{source}: expected a mapping with 'version' and 'conversations'")
    version = document.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise EscalationSetError(f"{source}: field 'version': expected one of {SUPPORTED_VERSIONS} (quoted), got {version!r}")
    raw_cases = document.get("conversations")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise EscalationSetError(f"{source}: field 'conversations': expected a non-empty list")

    cases: list[EscalationCase] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_cases):
        case = _parse_case(raw, index)
        if case.id in seen:
            raise _fail(f"conversation '{case.id}' (#{index + 1})", "id",
                        f"duplicate of conversation #{seen[case.id] + 1}")
        seen[case.id] = index
        cases.append(case)
    return EscalationSet(version=version, conversations=tuple(cases))


def load_escalation_set(path: Path | str = DEFAULT_PATH) -> EscalationSet:
    """Read and validate the escalation set file; raises EscalationSetError on any bad field."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EscalationSetError(f"{path}: not valid YAML: {exc}") from exc
    return parse_escalation_set(document, source=str(path))


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def is_traditional(text: str) -> bool:
    """True when the text has characters that differ in Simplified Chinese."""
    return _t2s().convert(text) != text


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def composition(cases: EscalationSet) -> dict[str, Any]:
    """Counts a reviewer checks: per category, must/must-not, levels, turns, Traditional share."""
    convs = cases.conversations
    traditional = [c for c in convs if is_traditional(c.text)]
    return {
        "total": len(convs),
        "must_handoff": len(cases.must_handoff),
        "must_not_handoff": len(cases.must_not_handoff),
        "categories": {cat: len(group) for cat, group in cases.by_category().items()},
        "levels": dict(Counter(c.expected_level or "none" for c in convs)),
        "turns": dict(sorted(Counter(len(c.turns) for c in convs).items())),
        "traditional": len(traditional),
        "traditional_share": round(len(traditional) / len(convs), 3),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else DEFAULT_PATH
    try:
        summary = composition(load_escalation_set(path))
    except EscalationSetError as exc:
        print(f"invalid escalation set: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {summary['total']} conversations "
          f"({summary['must_handoff']} must hand off, {summary['must_not_handoff']} must not)")
    for cat, n in summary["categories"].items():
        print(f"  {cat:<17}{n:>4}")
    print("  levels:", ", ".join(f"{k} {v}" for k, v in sorted(summary["levels"].items())))
    print("  turns:", ", ".join(f"{k}-turn {v}" for k, v in summary["turns"].items()))
    print(f"  Traditional: {summary['traditional']} ({summary['traditional_share']:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
