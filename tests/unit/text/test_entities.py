from datetime import date

from tests.unit.text.synthetic import make_id_number, make_invalid_checksum
from xinfang.text.entities import (
    find_dates,
    find_headcounts,
    find_id_numbers,
    find_money,
    find_organisations,
    find_periods,
    find_persons,
    find_phones,
)

REF = date(2024, 6, 15)


def test_it_finds_a_valid_id_number_and_masks_it():
    number = make_id_number()
    [entity] = find_id_numbers(f"身份证号{number},住址不详")
    assert entity.text == number[:4] + "*" * 10 + number[-4:]
    assert number not in str(entity.to_dict())
    assert entity.raw == number
    assert entity.value["birth_date"] == "1985-03-02"
    assert entity.value["region_code"] == "350428"


def test_an_id_number_with_a_wrong_checksum_is_not_an_id():
    assert find_id_numbers("身份证" + make_invalid_checksum(make_id_number())) == []


def test_an_order_number_is_not_an_id_even_with_a_valid_checksum():
    number = make_id_number()
    assert find_id_numbers(f"订单号:{number}") == []
    assert find_id_numbers(f"银行卡号{number}") == []


def test_a_bank_card_and_long_digit_runs_are_neither_ids_nor_phones():
    card = "6222021234567890123"  # 19 digits
    text = f"转账到卡{card},流水号202401011381234567890"
    assert find_id_numbers(text) == []
    assert find_phones(text) == []


def test_an_id_inside_a_longer_digit_run_is_not_found():
    assert find_id_numbers("编码9" + make_id_number() + "7") == []


def test_it_finds_mobiles_with_separators_and_masks_them():
    phones = find_phones("电话138-1234-5678,或+86 139 8765 4321。")
    assert [p.text for p in phones] == ["138****5678", "139****4321"]
    assert phones[0].raw == "13812345678"
    assert "13812345678" not in str([p.to_dict() for p in phones])


def test_a_mobile_inside_a_longer_digit_run_is_not_a_phone():
    assert find_phones("单号2138123456789") == []
    assert find_phones("编号13812345678901") == []


def test_it_finds_landlines_with_a_hyphen_or_a_phone_cue():
    assert [p.value["kind"] for p in find_phones("座机0598-2345678")] == ["landline"]
    assert [p.value["kind"] for p in find_phones("联系电话05982345678")] == ["landline"]
    assert find_phones("金额05982345678") == []
    assert find_phones("电话0000-12345678") == []  # anonymised area code "0000" is no area code


def test_it_finds_money_in_several_notations():
    found = {e.text: e.value["amount"] for e in find_money("欠款3万元,另有12,000元和两千多元,共计1.5万元")}
    assert found == {"3万元": 30000, "12,000元": 12000, "两千多元": 2000, "1.5万元": 15000}


def test_a_headcount_is_not_money():
    text = "200余人聚集,30多户村民和百余名工人"
    assert find_money(text) == []
    found = {e.text: e.value["count"] for e in find_headcounts(text)}
    assert found == {"200余人": 200, "30多户村民": 30, "百余名工人": 100}


def test_a_single_person_is_not_a_headcount():
    assert find_headcounts("我一人在家") == []


def test_it_resolves_relative_dates_against_the_reference_date():
    found = {
        e.text: e.value["date"]
        for e in find_dates("去年3月开工,2019年5月12日停工,前年就说过", reference_date=REF)
    }
    assert found == {"去年3月": "2023-03", "2019年5月12日": "2019-05-12", "前年": "2022"}


def test_it_finds_periods_but_not_years_or_month_names():
    text = "2019年起拖了三个多月,又等了两年,3月份再说"
    dates = find_dates(text, reference_date=REF)
    periods = find_periods(text, taken=[(d.start, d.end) for d in dates])
    assert {p.text: p.value["days"] for p in periods} == {"三个多月": 90, "两年": 730}


def test_it_finds_organisations_with_their_kind():
    found = {
        e.text: e.value["kind"]
        for e in find_organisations("在将乐县金山房地产开发有限公司打工,孩子在县第一中学,住阳光花园小区")
    }
    assert found["将乐县金山房地产开发有限公司"] == "company"
    assert found["阳光花园小区"] == "estate"
    assert any(kind == "school" for kind in found.values())


def test_it_finds_persons_by_cue_and_title():
    found = {e.text: e.value["role"] for e in find_persons("我叫张三,今年五十岁。村民李四和王书记都知道")}
    assert found == {"张三": "petitioner", "李四": "other", "王书记": "other"}


def test_it_does_not_take_ordinary_words_for_names():
    assert find_persons("我们要求尽快解决高速公路问题") == []
