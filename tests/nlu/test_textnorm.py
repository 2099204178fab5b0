"""The normaliser brings every written form of Chinese to one, keeping spans right."""
import pytest

from bot.textnorm import normalise


def test_traditional_becomes_simplified():
    assert normalise("請問這個訂單退貨運費誰出").text == "请问这个订单退货运费谁出"


def test_simplified_text_is_never_changed_by_traditional_phrase_rules():
    # OpenCC's t2s alone turns 万一坏了 into 万一坯了: the shopper's "broken" would vanish.
    assert normalise("万一坏了怎么保修").text == "万一坏了怎么保修"
    assert normalise("萬一壞了怎麼保修").text == "万一坏了怎么保修"
    assert normalise("頭髮乾淨").text == "头发干净"


def test_full_width_letters_digits_and_punctuation_become_half_width():
    assert normalise("訂單號：３８２９１０４８５７２６３５４１").text == "订单号:3829104857263541"
    assert normalise("ＳＦ快递？").text == "SF快递?"


def test_spaces_between_chinese_characters_are_removed_but_latin_words_keep_theirs():
    assert normalise("我 要 退 货").text == "我要退货"
    assert normalise("  iPhone 15 的壳  ").text == "iPhone 15的壳"


def test_emoji_are_removed_from_text_but_kept_as_signals():
    result = normalise("快递丢了😡😡怎么办")
    assert result.text == "快递丢了怎么办"
    assert result.emoji == ["😡", "😡"]


def test_repeated_punctuation_is_kept_as_a_signal_but_capped():
    result = normalise("到底什么时候发货！！！！！！")
    assert result.text == "到底什么时候发货!!!"
    assert result.max_punct_run == 6


def test_control_characters_are_dropped():
    assert normalise("退\x00款\u200b吧").text == "退款吧"


def test_entity_spans_follow_the_text():
    raw = "訂單 ３８２９１０４８５７２６３５４１ 😊 尾號６６２１"
    result = normalise(raw)
    start = raw.index("３")
    span = result.map_span(start, start + 16)
    assert result.text[span[0]:span[1]] == "3829104857263541"
    start = raw.index("６６２１")
    span = result.map_span(start, start + 4)
    assert result.text[span[0]:span[1]] == "6621"


def test_empty_and_emoji_only_messages_do_not_fail():
    assert normalise("").text == ""
    assert normalise("👍👍").text == ""


@pytest.mark.parametrize("raw, expected", [
    ("有冇得揀中通", "有没得拣中通"),
    ("澳門收唔收到貨", "澳门收不收到货"),
    ("等咗好耐都未到", "等了好久都未到"),
    ("係咪真係冇用", "是否真是没用"),
    ("我想睇下佢嘅訂單", "我想看下他的订单"),
    ("點樣退貨呀 唔該", "怎样退货呀谢谢"),
])
def test_written_cantonese_reads_as_mandarin(raw, expected):
    assert normalise(raw, cantonese=True).text == expected


@pytest.mark.parametrize("text", ["关系不大", "联系客服", "系统升级", "几时发货", "今日特价"])
def test_mandarin_words_sharing_characters_with_cantonese_keep_their_meaning(text):
    out = normalise(text, cantonese=True).text
    assert out in (text, text.replace("几时", "何时").replace("今日", "今天"))
    assert "是" not in out or "是" in text


def test_cantonese_mapping_keeps_entity_offsets():
    raw = "我個吹風機壞咗 單號YT8203917465012"
    result = normalise(raw, cantonese=True)
    start = raw.index("YT")
    span = result.map_span(start, start + 15)
    assert result.text[span[0]:span[1]] == "YT8203917465012"
    assert "坏了" in result.text
