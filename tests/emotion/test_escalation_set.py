"""The held-out escalation set is well-formed, balanced and hard enough to trust.

The end-to-end escalation evaluation (issue 5) is only as good as this set:
if it held only textbook cases, or if the must-not set had no cue words in it,
a keyword matcher would pass it. These tests pin its composition and check
that the loader rejects malformed entries with a message naming the
conversation and the field.
"""
from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest
import yaml

from bot.escalation_eval import (
    ALLOWED_LEVELS,
    CATEGORIES,
    MUST_CATEGORIES,
    MUST_NOT_CATEGORIES,
    EscalationSet,
    EscalationSetError,
    composition,
    is_traditional,
    load_escalation_set,
    main,
    parse_escalation_set,
    to_simplified,
)

ROOT = Path(__file__).resolve().parents[2]
SET_PATH = ROOT / "data/test/escalation_conversations.yml"

ID_PREFIX = {
    "calm_routine": "calm-", "mild_impatience": "mild-", "negation_praise": "neg-",
    "explicit_request": "req-", "anger": "anger-", "threat": "threat-", "safety": "safety-",
    "double_charge": "double-", "complex_case": "complex-", "loop": "loop-",
    "bot_not_helping": "bnh-", "multi_issue": "multi-",
}
MIN_PER_CATEGORY = {
    "calm_routine": 40, "mild_impatience": 25, "negation_praise": 25,
    "explicit_request": 12, "anger": 25, "threat": 15, "safety": 10, "double_charge": 8,
    "complex_case": 15, "loop": 10, "bot_not_helping": 10, "multi_issue": 10,
}
# Words an escalation detector keys on. The must-not set must contain them too
# (negated, in praise, in product names), or a keyword matcher would score perfectly.
CUE_WORDS = ("投诉", "差评", "人工", "垃圾", "气死", "骗子", "报警", "律师", "工商", "过敏",
             "漏电", "充电宝", "真高", "丢了", "生气", "吓死", "坏", "！！！", "？？？", "快点快点")
# Shopper turns quoted in issue 5 or the NLU contract: anyone may train on those,
# so they are allowed to appear in training data.
PUBLIC_PHRASES = {
    "快递怎么还没到呀，急用", "能快点发货吗 明天要用", "都三天了还没发？", "显示签收了但我没收到",
    "发错货了而且还少了一件，退款也没到", "退款说3天到账 现在一周了还没到", "效率真高啊，十天了快递还在路上",
    "查下订单3829104857263541 尾号6621", "你们客服态度真好", "东西很好用 谢谢", "我要人工客服",
    "转人工", "你好，满多少包邮呀", "我的快递到哪了", "再不处理我就打12315投诉你们", "都一个礼拜了还没动",
    "没有不满意 就是想问下能不能换个码", "我不是要投诉，就问问退款多久到", "不生气不生气 就问下什么时候发货",
}
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50]")
_REPEATED_PUNCT = re.compile(r"[！!]{2,}|[？?]{2,}|[。.]{3,}")


@pytest.fixture(scope="module")
def escalation_set() -> EscalationSet:
    return load_escalation_set(SET_PATH)


def _compact(text: str) -> str:
    """Simplified, without spaces or punctuation: what near-duplicates share."""
    return re.sub(r"[\s\W_]+", "", to_simplified(text))


def test_set_is_large_enough_on_both_sides(escalation_set: EscalationSet):
    summary = composition(escalation_set)
    print("\nescalation set:", summary)
    assert summary["total"] >= 230
    assert summary["must_handoff"] >= 120
    assert summary["must_not_handoff"] >= 100


def test_every_category_has_enough_conversations(escalation_set: EscalationSet):
    counts = composition(escalation_set)["categories"]
    short = {cat: (counts[cat], need) for cat, need in MIN_PER_CATEGORY.items() if counts[cat] < need}
    assert not short, f"categories below their minimum (have, need): {short}"
    assert set(counts) == set(CATEGORIES)


def test_ids_name_their_category(escalation_set: EscalationSet):
    wrong = [c.id for c in escalation_set.conversations if not c.id.startswith(ID_PREFIX[c.category])]
    assert not wrong, f"ids without their category prefix: {wrong}"


def test_levels_follow_the_issue_and_cover_every_level(escalation_set: EscalationSet):
    levels = composition(escalation_set)["levels"]
    # Enough of each level for the queue-order check (cross-level pairs) to mean something.
    assert levels.get("urgent", 0) >= 30 and levels.get("high", 0) >= 30 and levels.get("normal", 0) >= 30
    for case in escalation_set.must_handoff:
        assert case.expected_level in ALLOWED_LEVELS[case.category], case.id
    for cat in ("threat", "safety", "double_charge"):
        assert {c.expected_level for c in escalation_set.by_category()[cat]} == {"urgent"}


def test_a_conversation_ends_at_the_turn_a_human_is_needed(escalation_set: EscalationSet):
    trailing = [c.id for c in escalation_set.must_handoff if c.handoff_by_turn != len(c.turns)]
    assert not trailing, f"turns written after the handoff point: {trailing}"


def test_escalations_build_up_over_several_turns(escalation_set: EscalationSet):
    late = [c for c in escalation_set.must_handoff if c.handoff_by_turn >= 2]
    three = [c for c in late if c.handoff_by_turn == 3]
    assert len(late) >= 40
    assert len(three) >= 15
    # Late escalations in the emotional categories, not only in loops.
    assert {c.category for c in three} >= {"anger", "threat", "complex_case", "loop"}
    assert sum(len(c.turns) > 1 for c in escalation_set.must_not_handoff) >= 10


def test_traditional_chinese_is_about_fifteen_percent_on_both_sides(escalation_set: EscalationSet):
    share = composition(escalation_set)["traditional_share"]
    assert 0.12 <= share <= 0.20, share
    for side in (escalation_set.must_handoff, escalation_set.must_not_handoff):
        assert sum(is_traditional(c.text) for c in side) / len(side) >= 0.10


def test_must_not_set_is_full_of_cue_words(escalation_set: EscalationSet):
    tricky = [c.id for c in escalation_set.must_not_handoff if any(w in to_simplified(c.text) for w in CUE_WORDS)]
    assert len(tricky) >= 20, tricky
    # Sincere praise with the very words used sarcastically in the anger set.
    assert any("效率真高" in c.text for c in escalation_set.must_not_handoff)
    assert any("效率真高" in to_simplified(c.text) for c in escalation_set.by_category()["anger"])


def test_sarcasm_counts_as_anger(escalation_set: EscalationSet):
    sarcastic = [c for c in escalation_set.must_handoff if c.notes and "sarcasm" in c.notes]
    assert len(sarcastic) >= 8
    assert all(c.category == "anger" and c.expected_level == "high" for c in sarcastic)


def test_shoppers_write_noisily(escalation_set: EscalationSet):
    convs = escalation_set.conversations
    assert sum(bool(_EMOJI.search(c.text)) for c in convs) >= 10
    assert sum(bool(_REPEATED_PUNCT.search(c.text)) for c in convs) >= 12
    assert sum(bool(re.search(r"[A-Za-z]{2,}", c.text)) for c in convs) >= 8


def test_order_numbers_are_well_formed(escalation_set: EscalationSet):
    # An order number the contract's entity cannot match would fail for the wrong reason.
    for case in escalation_set.conversations:
        for run in re.findall(r"(?<![A-Za-z\d])\d{10,}", case.text):
            assert 16 <= len(run) <= 19, f"{case.id}: {run} is not a 16-19 digit order number"


def test_no_near_duplicates(escalation_set: EscalationSet):
    def bigrams(case) -> set[str]:
        t = _compact(case.text)
        return {t[i:i + 2] for i in range(len(t) - 1)} or {t}

    grams = {c.id: bigrams(c) for c in escalation_set.conversations}
    close = []
    for a, b in combinations(escalation_set.conversations, 2):
        ga, gb = grams[a.id], grams[b.id]
        if len(ga & gb) / len(ga | gb) >= 0.6:
            close.append((a.id, b.id))
    assert not close, f"near-duplicate conversations: {close}"


def test_set_is_not_in_training_data(escalation_set: EscalationSet):
    """Held out means held out: no shopper turn appears verbatim in data/ outside data/test
    (data/dev, the development set trainers tune on, included).

    Short stock phrases (under 8 characters, e.g. 什么时候发货) are bound to be
    training examples too; longer turns must not be.
    """
    corpus = []
    for path in (ROOT / "data").rglob("*"):
        if path.is_file() and "test" not in path.relative_to(ROOT / "data").parts[:1] \
                and path.suffix in {".yml", ".yaml", ".txt", ".json", ".jsonl", ".csv", ".tsv", ".md"}:
            corpus.append(_compact(path.read_text(encoding="utf-8", errors="ignore")))
    text = "\n".join(corpus)
    leaked = sorted({
        turn for case in escalation_set.conversations for turn in case.turns
        if turn not in PUBLIC_PHRASES and len(_compact(turn)) >= 8 and _compact(turn) in text
    })
    assert not leaked, f"evaluation turns found in training data: {leaked[:10]}"


# ---------------------------------------------------------------- loader errors

def _document(**overrides) -> dict:
    case = {"id": "anger-999", "category": "anger", "turns": ["什么破服务"], "expect_handoff": True,
            "handoff_by_turn": 1, "expected_level": "high"}
    case.update(overrides)
    return {"version": "1", "conversations": [case]}


@pytest.mark.parametrize("overrides, field", [
    ({"expected_level": "medium"}, "expected_level"),
    ({"expected_level": "urgent"}, "expected_level"),          # anger is high, not urgent
    ({"handoff_by_turn": 2}, "handoff_by_turn"),                # only one turn
    ({"handoff_by_turn": None}, "handoff_by_turn"),
    ({"expect_handoff": False}, "expect_handoff"),              # anger must hand off
    ({"category": "rage"}, "category"),
    ({"turns": ["a", "b", "c", "d"]}, "turns"),
    ({"turns": [True]}, "turns"),                               # unquoted yes/no in YAML
    ({"turns": []}, "turns"),
    ({"priority": "high"}, "priority"),                         # unknown field
    ({"expect_handoff": "yes"}, "expect_handoff"),
])
def test_loader_names_the_bad_conversation_and_field(overrides, field):
    with pytest.raises(EscalationSetError) as err:
        parse_escalation_set(_document(**overrides))
    assert "'anger-999'" in str(err.value) and f"'{field}'" in str(err.value)


def test_loader_rejects_labels_on_a_must_not_conversation():
    doc = _document(id="calm-999", category="calm_routine", expect_handoff=False,
                    handoff_by_turn=None, expected_level="normal")
    with pytest.raises(EscalationSetError, match=r"'calm-999'.*'expected_level'"):
        parse_escalation_set(doc)


def test_loader_rejects_duplicate_ids_and_missing_fields():
    doc = _document()
    doc["conversations"].append(dict(doc["conversations"][0]))
    with pytest.raises(EscalationSetError, match=r"'anger-999' \(#2\).*'id'.*duplicate of conversation #1"):
        parse_escalation_set(doc)
    doc = _document()
    del doc["conversations"][0]["expected_level"]
    with pytest.raises(EscalationSetError, match=r"'anger-999'.*'expected_level': missing"):
        parse_escalation_set(doc)


def test_loader_reports_broken_yaml_and_wrong_version(tmp_path: Path):
    bad = tmp_path / "set.yml"
    bad.write_text("version: '1'\nconversations:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(EscalationSetError, match="not valid YAML"):
        load_escalation_set(bad)
    bad.write_text(yaml.safe_dump({**_document(), "version": 2}), encoding="utf-8")
    with pytest.raises(EscalationSetError, match="'version'"):
        load_escalation_set(bad)


def test_cli_prints_the_composition(capsys):
    assert main([str(SET_PATH)]) == 0
    out = capsys.readouterr().out
    assert "must hand off" in out and "Traditional" in out
    for cat in MUST_NOT_CATEGORIES + MUST_CATEGORIES:
        assert cat in out


def test_cli_fails_on_an_invalid_file(tmp_path: Path, capsys):
    bad = tmp_path / "set.yml"
    bad.write_text(yaml.safe_dump(_document(expected_level="medium"), allow_unicode=True), encoding="utf-8")
    assert main([str(bad)]) == 1
    assert "anger-999" in capsys.readouterr().err
