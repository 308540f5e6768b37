"""Reading CSV and XLSX import files: encodings, Excel dates, and clear refusals of bad input."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import datetime

import openpyxl
import pytest

from xinfang.errors import InvalidInput
from xinfang.intake.files import read_table

CSV_TEXT = (
    "标题,内容,来信时间\r\n"
    "工资拖欠,老板拖欠工资3.2万元,2025/1/6 12:09:38\r\n"
    "道路破损,村道坑洼,2025年3月1日\r\n"
)


def _xlsx(rows: list[list[object]], *, title: str = "Sheet") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _refusal(data: bytes, filename: str = "x.csv", **kwargs: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        read_table(data, filename=filename, **kwargs)
    return caught.value


def test_it_reads_gbk_csv():
    table = read_table(CSV_TEXT.encode("gbk"), filename="来信.csv")
    assert table.kind == "csv"
    assert table.encoding == "gb18030"  # GBK bytes are read as its superset
    assert table.headers == ("标题", "内容", "来信时间")
    assert table.rows[0]["内容"] == "老板拖欠工资3.2万元"
    assert table.row_numbers == [2, 3]


def test_it_reads_gb18030_with_rare_characters():
    text = "姓名,内容\n王𠀀,龑䶮字\n"
    table = read_table(text.encode("gb18030"), filename="a.csv")
    assert table.rows == [{"姓名": "王𠀀", "内容": "龑䶮字"}]


def test_it_strips_a_utf8_bom():
    table = read_table(CSV_TEXT.encode("utf-8-sig"), filename="a.csv")
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "标题"


def test_it_reads_plain_utf8():
    assert read_table(CSV_TEXT.encode("utf-8"), filename="a.csv").encoding == "utf-8"


def test_an_explicit_encoding_is_strict_and_names_the_line():
    data = "标题,内容\n甲,乙\n丙,𠀀\n".encode("gb18030")
    error = _refusal(data, encoding="gbk")
    assert error.code == "intake.bad_encoding"
    assert "第3行" in error.message and "gbk" in error.message
    assert error.params["line"] == 3


def test_gbk_bytes_declared_as_utf8_are_refused():
    data = "title,body\nok,ok\n坏,行\n".encode("gbk")
    error = _refusal(data, encoding="utf-8")
    assert error.code == "intake.bad_encoding" and "第3行" in error.message


def test_an_unknown_encoding_name_is_refused():
    assert _refusal(b"a,b\n1,2\n", encoding="klingon").code == "intake.unknown_encoding"


def test_it_reads_xlsx_with_excel_and_text_dates():
    data = _xlsx(
        [
            ["标题", "时间", "电话"],
            ["甲", datetime(2025, 1, 6, 12, 9, 38), 13812345678],
            [None, None, None],
            ["乙", "2025年1月6日", "0598-2345678"],
        ]
    )
    table = read_table(data, filename="工单.xlsx")
    assert table.kind == "xlsx" and table.sheet == "Sheet" and table.encoding is None
    assert table.rows[0]["时间"] == datetime(2025, 1, 6, 12, 9, 38)
    assert table.rows[0]["电话"] == "13812345678"  # a number cell keeps its digits
    assert table.rows[1]["时间"] == "2025年1月6日"
    assert table.row_numbers == [2, 4]  # the blank row is skipped but counted


def test_it_reads_a_named_sheet_and_refuses_a_missing_one():
    data = _xlsx([["标题"], ["甲"]], title="十二月")
    assert read_table(data, filename="a.xlsx", sheet="十二月").rows == [{"标题": "甲"}]
    error = _refusal(data, "a.xlsx", sheet="一月")
    assert error.code == "intake.no_sheet" and "十二月" in error.message


def test_duplicate_headers_are_refused():
    error = _refusal("标题,内容,标题\n1,2,3\n".encode())
    assert error.code == "intake.duplicate_header" and "标题" in error.message


def test_a_blank_header_is_refused():
    assert _refusal("标题,,内容\n1,2,3\n".encode()).code == "intake.blank_header"


def test_a_ragged_row_is_named_by_its_line():
    error = _refusal("标题,内容\n甲,乙\n丙,丁,多余\n".encode())
    assert error.code == "intake.ragged_row" and "第3行" in error.message
    error = _refusal("标题,内容\n甲,乙\n\n丙\n".encode())
    assert error.code == "intake.ragged_row" and "第4行" in error.message


def test_a_trailing_empty_cell_is_not_ragged():
    assert read_table("标题,内容\n甲,乙,\n".encode(), filename="a.csv").rows == [{"标题": "甲", "内容": "乙"}]


def test_multi_line_cells_keep_line_numbers_right():
    data = '标题,内容\n甲,"第一行\n第二行"\n乙,丙\n'.encode()
    table = read_table(data, filename="a.csv")
    assert table.rows[0]["内容"] == "第一行\n第二行"
    assert table.row_numbers == [2, 4]


def test_tab_separated_text_is_read():
    table = read_table("标题\t内容\n甲\t乙,有逗号\n".encode("gbk"), filename="a.txt")
    assert table.rows == [{"标题": "甲", "内容": "乙,有逗号"}]


def test_empty_and_header_only_files():
    assert _refusal(b"").code == "intake.empty_file"
    assert _refusal(b"\r\n\r\n").code == "intake.empty_file"
    assert len(read_table("标题,内容\n".encode(), filename="a.csv")) == 0
    assert _refusal(_xlsx([]), "a.xlsx").code == "intake.no_header"


def test_binary_files_are_not_tables():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert _refusal(png, "photo.csv").code == "intake.not_a_table"
    assert _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "old.xls").code == "intake.legacy_xls"


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused():
    assert _refusal(b"just some text", "fake.xlsx").code == "intake.not_xlsx"


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _refusal(buffer.getvalue(), "a.xlsx").code == "intake.not_xlsx"


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size a zip declares for one member (local header and central directory)."""
    out = bytearray(data)
    name = member.encode()
    local = out.find(b"PK\x03\x04" + b"")
    while local != -1:
        name_len = struct.unpack_from("<H", out, local + 26)[0]
        if out[local + 30 : local + 30 + name_len] == name:
            struct.pack_into("<I", out, local + 22, size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if out[central + 46 : central + 46 + name_len] == name:
            struct.pack_into("<I", out, central + 24, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_a_zip_bomb_disguised_as_xlsx_is_refused_before_inflating():
    bomb = _declare_size(_xlsx([["标题"], ["甲"]]), "xl/worksheets/sheet1.xml", 0xF000_0000)
    started = time.perf_counter()
    error = _refusal(bomb, "report.xlsx")
    assert error.code == "intake.xlsx_too_large"
    assert time.perf_counter() - started < 1.0


def test_a_highly_compressed_member_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    error = _refusal(buffer.getvalue(), "report.xlsx")
    assert error.code == "intake.xlsx_too_large"


def test_size_limits_are_parameters():
    data = CSV_TEXT.encode()
    assert _refusal(data, max_bytes=10).code == "intake.too_large"
    assert _refusal(data, max_rows=1).code == "intake.too_many_rows"
    assert len(read_table(data, filename="a.csv", max_rows=2)) == 2
    many = _xlsx([["标题"], ["1"], ["2"], ["3"]])
    assert _refusal(many, "a.xlsx", max_rows=2).code == "intake.too_many_rows"
    assert _refusal(many, "a.xlsx", max_uncompressed=100).code == "intake.xlsx_too_large"


def test_error_messages_do_not_quote_cells():
    secret = "350428199001011234"
    error = _refusal(f"标题,内容\n{secret},乙,丙\n".encode())
    assert secret not in error.message and secret not in str(error.to_dict())
