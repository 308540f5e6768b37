"""Column mapping profiles and row parsing into PetitionIn, with row-numbered errors that leak no values."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from xinfang.cases.enums import Channel
from xinfang.demo.county import load_demo_county
from xinfang.demo.generator import HOTLINE_HEADERS, generate_hotline_rows, rows_to_csv_bytes
from xinfang.errors import InvalidInput
from xinfang.intake.files import read_table
from xinfang.intake.mapping import (
    ColumnMapping,
    builtin_profile,
    detect_profile,
    load_mapping,
    parse_datetime,
    parse_rows,
    resolve_division,
)
from xinfang.text.ids import id_checksum_char

# A made-up gazetteer: resolution must not depend on the demo county.
DIVISIONS = {"甲子镇": "990001100", "乙丑乡": "990001200", "乙丑镇": "990001200", "丙寅街道": "990001001"}
VALID_ID = "35042819800101001" + id_checksum_char("35042819800101001")
BAD_ID = "350428198001010010" if VALID_ID[-1] != "0" else "350428198001010011"


def _table(text: str):
    return read_table(text.encode("gb18030"), filename="t.csv")


def _parse(text: str, profile: str = "default", **kwargs):
    kwargs.setdefault("source", "upload")
    kwargs.setdefault("default_channel", Channel.LETTER)
    return parse_rows(_table(text), builtin_profile(profile), divisions=DIVISIONS, **kwargs)


def test_default_profile_knows_common_chinese_headers():
    headers = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级分类"]
    assert builtin_profile("default").resolve(headers) == {
        "external_id": "留言编号",
        "petitioner_name": "留言用户",
        "title": "留言主题",
        "received_at": "留言时间",
        "body": "留言详情",
        "category": "一级分类",
    }


def test_headers_match_despite_spaces_and_case():
    assert builtin_profile("default").resolve([" 标 题 ", "BODY"]) == {"title": " 标 题 ", "body": "BODY"}


def test_hotline_profile_fixes_channel_and_source():
    profile = builtin_profile("hotline12345")
    assert profile.channel == Channel.HOTLINE and profile.source == "12345"
    assert set(profile.resolve(HOTLINE_HEADERS)) >= {
        "external_id",
        "received_at",
        "title",
        "body",
        "township",
    }


def test_detect_profile_prefers_the_feed_that_fits():
    assert detect_profile(HOTLINE_HEADERS).name == "hotline12345"
    assert detect_profile(["标题", "内容", "来信时间", "渠道"]).name == "default"


def test_unknown_profile_is_refused():
    with pytest.raises(InvalidInput):
        builtin_profile("nope")


def test_a_mapping_loads_from_yaml_and_extends_a_profile():
    mapping = load_mapping(
        """
        name: county_letters
        extends: default
        channel: 来信
        columns:
          title: [信件标题]
          petitioner_name: 写信人
        """
    )
    assert mapping.channel == Channel.LETTER
    assert mapping.columns["title"] == ("信件标题",)
    assert mapping.columns["petitioner_name"] == ("写信人",)
    assert "诉求内容" in mapping.columns["body"]  # inherited


def test_a_mapping_from_a_dict_without_extends():
    mapping = load_mapping({"name": "mini", "columns": {"body": "正文"}})
    assert mapping == ColumnMapping(name="mini", columns={"body": ("正文",)})


def test_a_mapping_with_an_unknown_field_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_mapping({"name": "bad", "columns": {"colour": "颜色"}})
    assert caught.value.code == "intake.bad_mapping" and "colour" in caught.value.message


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("甲子镇", "990001100"),
        ("甲子", "990001100"),
        (" 甲子镇 ", "990001100"),
        ("乙丑乡", "990001200"),
        ("某某县甲子镇", "990001100"),
        ("990001001", "990001001"),
        ("丙寅", "990001001"),
        ("丁卯镇", None),
    ],
)
def test_township_names_resolve_to_codes(name, code):
    assert resolve_division(name, DIVISIONS) == code


def test_the_demo_county_resolves_its_renamed_townships():
    names = load_demo_county().division_names()
    assert resolve_division("光明乡", names) == "350428106"
    assert resolve_division("南口镇", names) == "350428107"
    assert resolve_division("古镛", names) == "350428100"


def test_a_good_row_becomes_a_petition():
    result = _parse(
        "编号,标题,内容,来信时间,姓名,身份证号,联系电话,乡镇,详细地址,人数\n"
        f"A-1,工资拖欠, 老板拖欠工资 ,2025/1/6 12:09:38,王某,{VALID_ID},138 1234 5678,甲子,甲子镇某村,30人\n"
    )
    assert result.errors == [] and len(result.rows) == 1
    petition = result.rows[0].petition
    assert (
        petition.channel == Channel.LETTER and petition.source == "upload" and petition.external_id == "A-1"
    )
    assert petition.body == "老板拖欠工资"
    assert petition.received_at == datetime(2025, 1, 6, 4, 9, 38, tzinfo=UTC)
    assert petition.petitioners[0].id_number == VALID_ID and petition.petitioners[0].phone == "13812345678"
    assert petition.location.division_code == "990001100"
    assert petition.headcount == 30


def test_a_bad_id_number_rejects_its_row_only_and_is_not_quoted():
    result = _parse(f"标题,内容,身份证号\n甲,内容一,{VALID_ID}\n乙,内容二,{BAD_ID}\n丙,内容三,\n")
    assert [r.row_number for r in result.rows] == [2, 4]
    assert result.rejected_rows == [3]
    (error,) = result.errors
    assert error.field == "petitioner_id_number" and error.column == "身份证号"
    assert error.message.startswith("第3行") and "身份证号码无效" in error.message
    assert BAD_ID not in error.message


def test_a_bad_phone_can_be_dropped_with_a_warning():
    text = "标题,内容,姓名,联系电话\n甲,内容,王某,12345\n"
    strict = _parse(text)
    assert strict.rejected_rows == [2] and "12345" not in strict.errors[0].message.replace("第2行", "")
    lenient = _parse(text, lenient_contacts=True)
    assert len(lenient.rows) == 1 and lenient.rows[0].petition.petitioners[0].phone is None
    assert lenient.warnings[0].field == "petitioner_phone"


def test_a_cell_with_several_phones_gives_the_first_valid_one():
    result = _parse("标题,内容,电话\n甲,乙,0598-2345678/13812345678\n丙,丁,无 13912345678\n")
    assert [r.petition.petitioners[0].phone for r in result.rows] == ["0598-2345678", "13912345678"]


def test_a_missing_title_is_taken_from_the_body():
    result = _parse("内容\n村道坑洼不平，下雨天积水很深。请尽快维修。\n")
    assert result.rows[0].petition.title == "村道坑洼不平，下雨天积水很深"


def test_a_row_without_title_and_body_is_an_error():
    result = _parse("标题,内容,姓名\n,,王某\n")
    assert result.rejected_rows == [2] and result.errors[0].field == "body"


def test_a_table_without_text_columns_is_refused():
    with pytest.raises(InvalidInput) as caught:
        _parse("姓名,电话\n王某,13812345678\n")
    assert caught.value.code == "intake.no_text_column"


def test_bad_dates_and_counts_are_reported_per_field():
    result = _parse("标题,内容,时间,人数\n甲,乙,昨天下午,三十\n")
    assert {e.field for e in result.errors} == {"received_at", "headcount"}
    assert all(e.row_number == 2 for e in result.errors)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-06 12:09",
        "2025/1/6 12:09:00",
        "2025年1月6日 12:09",
        "2025-01-06T12:09:00+08:00",
        "２０２５-01-06 12:09",
    ],
)
def test_text_dates_are_china_local_time(text):
    assert parse_datetime(text) == datetime(2025, 1, 6, 4, 9, tzinfo=UTC)


def test_excel_serial_numbers_and_date_only_values():
    assert parse_datetime("45663.5") == datetime(2025, 1, 6, 4, 0, tzinfo=UTC)
    assert parse_datetime("20250106") == datetime(2025, 1, 5, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_datetime("1850-01-01")


def test_xlsx_excel_date_and_text_date_both_parse():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["标题", "内容", "留言时间"])
    sheet.append(["甲", "内容", datetime(2025, 1, 6, 12, 9)])
    sheet.append(["乙", "内容", "2025年1月6日 12:09"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), filename="a.xlsx")
    result = parse_rows(table, builtin_profile("default"), default_channel=Channel.ONLINE)
    assert [r.petition.received_at for r in result.rows] == [datetime(2025, 1, 6, 4, 9, tzinfo=UTC)] * 2


def test_channel_comes_from_the_row_then_the_default():
    result = _parse("标题,内容,渠道\n甲,乙,走访\n丙,丁,\n戊,己,飞鸽传书\n")
    assert [r.petition.channel for r in result.rows] == [Channel.VISIT, Channel.LETTER]
    assert result.errors[0].row_number == 4 and result.errors[0].field == "channel"


def test_without_a_default_channel_a_row_needs_one():
    result = parse_rows(_table("标题,内容\n甲,乙\n"), builtin_profile("default"))
    assert result.errors[0].field == "channel"


def test_rows_without_an_external_id_leave_it_empty_and_duplicates_warn():
    assert _parse("标题,内容\n甲,乙\n").rows[0].petition.external_id is None
    result = _parse("编号,标题,内容\n7,甲,乙\n7,丙,丁\n")
    assert len(result.rows) == 2 and result.warnings[0].row_number == 3


def test_an_unknown_township_warns_and_an_address_can_place_the_row():
    result = _parse("标题,内容,乡镇,地址\n甲,乙,丁卯镇,\n丙,丁,,某县乙丑乡下村\n")
    assert result.rows[0].petition.location is None
    assert result.warnings[0].field == "township" and result.warnings[0].row_number == 2
    assert result.rows[1].petition.location.division_code == "990001200"


def test_a_demo_hotline_export_round_trips(tmp_path):
    county = load_demo_county()
    rows = generate_hotline_rows(seed=9, end=date(2026, 3, 31), months=1, county=county)
    table = read_table(rows_to_csv_bytes(rows, encoding="gbk"), filename="12345.csv")
    result = parse_rows(table, detect_profile(table.headers), divisions=county.division_names())
    assert result.errors == []
    assert [r.petition.external_id for r in result.rows] == [row["工单编号"] for row in rows]
    assert all(r.petition.channel == Channel.HOTLINE and r.petition.source == "12345" for r in result.rows)
    assert all(r.petition.location.division_code.startswith("350428") for r in result.rows)
