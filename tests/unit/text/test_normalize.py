from xinfang.text.normalize import normalise, to_half_width_simplified
from xinfang.text.numerals import parse_number


def test_it_converts_full_width_and_traditional_one_to_one():
    assert to_half_width_simplified("ＡＢＣ１２３　縣政府補償款") == "ABC123 县政府补偿款"


def test_it_collapses_export_noise_and_keeps_offsets():
    original = "\n\t\n\t標題\n\t\n\t我們村  的事"
    norm = normalise(original)
    assert norm.text == "标题\n我们村 的事"
    start = norm.text.index("我们村")
    o_start, o_end = norm.span(start, start + 3)
    assert original[o_start:o_end] == "我們村"


def test_it_drops_zero_width_characters():
    assert normalise("拖\u200b欠").text == "拖欠"


def test_it_parses_mixed_numerals():
    assert parse_number("两千多") == 2000
    assert parse_number("3.5万") == 35000
    assert parse_number("12,000") == 12000
    assert parse_number("一百二十") == 120
    assert parse_number("百余") == 100
    assert parse_number("一亿两千万") == 120_000_000
    assert parse_number("abc") is None


def test_normalise_text_equals_the_text_of_normalise():
    from xinfang.text.normalize import normalise, normalise_text

    cases = [
        "",
        "   ",
        "\n\t\n\t标题\n\t\n正文 第一段\u200b。\r\n第二段\u3000全角ＡＢＣ  结尾  ",
        "\u200b开头零宽\u200b\u200c中间零宽\u200d结尾\ufeff",
        "a \u200b b\n \u200b c",
        "開發區的學校 收費",
    ]
    for text in cases:
        assert normalise_text(text) == normalise(text).text
