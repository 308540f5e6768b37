from datetime import date

from tests.unit.text.synthetic import make_id_number
from xinfang.text.analysis import analyse_text, source_text
from xinfang.text.gazetteer import default_gazetteer


def test_spans_point_into_the_original_traditional_full_width_text():
    number = make_id_number()
    wide_number = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    title = "拖欠工資"
    body = f"\n\t\n\t我叫張三，身份證{wide_number}，家住將樂縣萬安鎮西垅村。電話：１３８１２３４５６７８。懇請解決。"
    result = analyse_text(title, body, gazetteer=default_gazetteer(), reference_date=date(2024, 1, 1))
    source = source_text(title, body)
    by_type = {}
    for e in result.entities:
        by_type.setdefault(e.type, []).append(e)
    person = by_type["person"][0]
    assert source[person.start : person.end] == "張三"
    id_entity = by_type["id_number"][0]
    assert source[id_entity.start : id_entity.end] == wide_number
    assert id_entity.text == number[:4] + "*" * 10 + number[-4:]
    phone = by_type["phone"][0]
    assert source[phone.start : phone.end] == "１３８１２３４５６７８"
    town = next(e for e in by_type["address"] if e.value["level"] == "township")
    assert source[town.start : town.end] == "萬安鎮" and town.value["code"] == "350428101"
    assert result.location.village_code == "350428101202"


def test_the_serialised_analysis_never_contains_the_raw_id_or_phone():
    number = make_id_number(seq="456")
    result = analyse_text("", f"身份证号{number},手机13912345678", gazetteer=default_gazetteer())
    dumped = str(result.to_dict())
    assert number not in dumped and "13912345678" not in dumped
