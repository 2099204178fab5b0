"""我要投诉到平台 is a threat: 要投诉 (a complaint word) must not hide 投诉到平台."""
from __future__ import annotations

import pytest

from bot.emotion import score_message


@pytest.mark.parametrize("text", ["我要投诉到平台", "再不处理我要投诉到平台去", "我要投訴到平台！"])
def test_threat_inside_a_complaint_word_is_a_threat(text: str) -> None:
    reading = score_message(text)
    assert reading.threat
    assert any(c.startswith("threat:") and c.endswith("投诉到平台") for c in reading.cues)


@pytest.mark.parametrize("text", ["工商银行的卡能付吗", "我要投诉", "不会投诉到平台的，放心"])
def test_no_threat_without_one(text: str) -> None:
    assert not score_message(text).threat
