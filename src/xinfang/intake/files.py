"""Read an uploaded CSV or XLSX file into a plain table, refusing bad input with a clear, specific error.

Why so defensive: files come from county clerks and outside systems (12345 exports, spreadsheets typed by
hand). They arrive in GBK, GB18030 or UTF-8 with or without BOM, with Excel dates and text dates mixed, and
sometimes they are not what their name says. A file that cannot be read exactly is refused with the line or
row named, rather than half-imported. Nothing here touches the database, and messages never quote cell
contents (cells hold ID numbers and phone numbers).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from xinfang.errors import InvalidInput

CellValue = str | datetime | None

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# XLSX is a zip: check the sizes its directory declares before inflating anything (zip bombs).
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200  # uncompressed / compressed, for members larger than 1 MiB
MAX_XLSX_MEMBERS = 2_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls / .doc
_CSV_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class Table:
    """A rectangular table: headers, one dict per data row, and where each row was in the file.

    `row_numbers[i]` is the 1-based line (CSV) or sheet row (XLSX) where `rows[i]` starts, so that an error
    can say "第5行" and the clerk finds it in the file. Empty cells are None; XLSX date cells are datetimes.
    """

    headers: tuple[str, ...]
    rows: list[dict[str, CellValue]]
    row_numbers: list[int]
    kind: Literal["csv", "xlsx"]
    encoding: str | None = None  # the CSV encoding used (None for XLSX)
    sheet: str | None = None  # the XLSX sheet read

    def __len__(self) -> int:
        return len(self.rows)

    def numbered_rows(self) -> list[tuple[int, dict[str, CellValue]]]:
        return list(zip(self.row_numbers, self.rows, strict=True))


def read_table(
    data: bytes,
    *,
    filename: str,
    encoding: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_XLSX_UNCOMPRESSED,
) -> Table:
    """Read CSV or XLSX bytes. The kind is decided by content first (a zip is XLSX), then by the file name.

    `encoding` applies to CSV only: None detects it (UTF-8 with or without BOM, then GB18030, which is a
    superset of GBK, then charset-normalizer as a last resort); an explicit encoding is decoded strictly.
    Raises InvalidInput with a Chinese message and a stable code.
    """
    if not data:
        raise InvalidInput("文件为空", code="intake.empty_file", filename=filename)
    if len(data) > max_bytes:
        raise InvalidInput(
            f"文件过大（{len(data)}字节，上限{max_bytes}字节）", code="intake.too_large", size=len(data)
        )
    lower = filename.lower()
    if data.startswith(_ZIP_MAGIC) or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, sheet=sheet, max_rows=max_rows, max_uncompressed=max_uncompressed)
    if data.startswith(_OLE_MAGIC) or lower.endswith(".xls"):
        raise InvalidInput("不支持旧版Excel(.xls)文件，请另存为.xlsx或CSV后再导入", code="intake.legacy_xls")
    return _read_csv(data, encoding=encoding, max_rows=max_rows)


# ---- CSV --------------------------------------------------------------------------------------------------


def decode_text(data: bytes, *, encoding: str | None = None) -> tuple[str, str]:
    """Decode CSV bytes and return (text, encoding used); see read_table for the order of attempts."""
    if encoding is not None:
        return _decode_strict(data, encoding), _canonical(encoding)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16"), "utf-16"
    _refuse_binary(data)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    return _decode_guess(data)


def _canonical(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInput(f"不认识的字符编码：{encoding}", code="intake.unknown_encoding") from None


def _decode_strict(data: bytes, encoding: str) -> str:
    name = _canonical(encoding)
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"文件不是{encoding}编码：第{line}行（第{exc.start + 1}字节）无法按{encoding}解码，"
            "请确认文件编码或不指定编码让系统自动识别",
            code="intake.bad_encoding",
            encoding=encoding,
            line=line,
            byte=exc.start + 1,
        ) from None


def _refuse_binary(data: bytes) -> None:
    """NUL bytes never occur in GBK, GB18030 or UTF-8 text: such a file is binary (an image, a PDF ...)."""
    if b"\x00" in data[:65536]:
        raise InvalidInput("文件不是CSV或XLSX表格（看起来是二进制文件）", code="intake.not_a_table")


def _decode_guess(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding is None:
        raise InvalidInput(
            "无法识别文件的字符编码，请另存为UTF-8或GBK编码的CSV", code="intake.unknown_encoding"
        )
    return _decode_strict(data, best.encoding), _canonical(best.encoding)


def _looks_like_text(text: str) -> bool:
    sample = text[:20_000]
    if not sample:
        return True
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\ufffd")
    return controls / len(sample) < 0.01


def _read_csv(data: bytes, *, encoding: str | None, max_rows: int) -> Table:
    text, used = decode_text(data, encoding=encoding)
    if not _looks_like_text(text):
        raise InvalidInput("文件不是CSV或XLSX表格（含有大量控制字符）", code="intake.not_a_table")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidInput("文件为空", code="intake.empty_file")
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_sniff(text))
    headers: tuple[str, ...] | None = None
    rows: list[dict[str, CellValue]] = []
    numbers: list[int] = []
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if headers is None:
                headers = _headers(cells, start)
                continue
            rows.append(_row(headers, cells, start, allow_short=False))
            numbers.append(start)
            if len(rows) > max_rows:
                raise InvalidInput(
                    f"数据行数超过上限{max_rows}行", code="intake.too_many_rows", max_rows=max_rows
                )
    except csv.Error as exc:
        raise InvalidInput(
            f"CSV格式错误：第{line}行附近（{exc}）", code="intake.bad_csv", line=line
        ) from None
    if headers is None:
        raise InvalidInput("文件没有表头", code="intake.no_header")
    return Table(headers=headers, rows=rows, row_numbers=numbers, kind="csv", encoding=used)


def _sniff(text: str) -> type[csv.Dialect] | csv.Dialect:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


# ---- shared row shaping -----------------------------------------------------------------------------------


def _clean_header(value: object) -> str:
    return str(value).replace("\ufeff", "").replace("\u3000", " ").strip() if value is not None else ""


def _headers(cells: list[object] | tuple[object, ...], number: int) -> tuple[str, ...]:
    names = [_clean_header(c) for c in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise InvalidInput("文件没有表头", code="intake.no_header")
    for index, name in enumerate(names, start=1):
        if not name:
            raise InvalidInput(
                f"表头第{index}列为空（第{number}行）", code="intake.blank_header", column=index
            )
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in names:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise InvalidInput(
            f"表头重复：{'、'.join(duplicates)}", code="intake.duplicate_header", headers=duplicates
        )
    return tuple(names)


def _row(
    headers: tuple[str, ...], cells: list[object] | tuple[object, ...], number: int, *, allow_short: bool
) -> dict[str, CellValue]:
    """Pair cells with headers; a row with more filled cells than headers, or fewer cells, is ragged."""
    values = list(cells)
    extra = values[len(headers) :]
    if any(_cell(v) is not None for v in extra):
        raise InvalidInput(
            f"第{number}行的列数({len(values)})多于表头列数({len(headers)})",
            code="intake.ragged_row",
            row=number,
        )
    if len(values) < len(headers) and not allow_short:
        raise InvalidInput(
            f"第{number}行的列数({len(values)})少于表头列数({len(headers)})",
            code="intake.ragged_row",
            row=number,
        )
    values += [None] * (len(headers) - len(values))
    return {h: _cell(v) for h, v in zip(headers, values, strict=False)}


def _cell(value: object) -> CellValue:
    """Normalise a cell: blank → None, dates → datetime, integral floats → digits (phones typed as numbers).

    Integral floats only: an ID number typed as a number has already lost its last digits in Excel.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() else None


# ---- XLSX -------------------------------------------------------------------------------------------------


def _check_zip(data: bytes, *, max_uncompressed: int) -> None:
    """Refuse a zip whose declared sizes are too large, before anything is inflated.

    zipfile stops inflating a member at its declared size (and fails the CRC check if the data goes on), so
    the declared sizes bound the memory that reading can take.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InvalidInput("文件不是有效的XLSX文件（不是完整的zip压缩包）", code="intake.not_xlsx") from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise InvalidInput("XLSX文件结构异常（条目过多）", code="intake.xlsx_too_large")
    total = sum(m.file_size for m in members)
    if total > max_uncompressed:
        raise InvalidInput(
            f"XLSX文件解压后过大（声明{total}字节，上限{max_uncompressed}字节），已拒绝",
            code="intake.xlsx_too_large",
            declared=total,
        )
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1):
            raise InvalidInput("XLSX文件压缩比异常（疑似压缩炸弹），已拒绝", code="intake.xlsx_too_large")
    if "xl/workbook.xml" not in names:
        raise InvalidInput("文件不是有效的XLSX文件（缺少工作簿）", code="intake.not_xlsx")


def _read_xlsx(data: bytes, *, sheet: str | None, max_rows: int, max_uncompressed: int) -> Table:
    _check_zip(data, max_uncompressed=max_uncompressed)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; all mean the same to the clerk
        raise InvalidInput(
            "XLSX文件已损坏或格式不受支持", code="intake.not_xlsx", reason=type(exc).__name__
        ) from None
    try:
        return _sheet_table(workbook, sheet=sheet, max_rows=max_rows)
    finally:
        workbook.close()


def _sheet_table(workbook: object, *, sheet: str | None, max_rows: int) -> Table:
    names: list[str] = workbook.sheetnames  # type: ignore[attr-defined]
    if sheet is not None and sheet not in names:
        raise InvalidInput(f"工作表不存在：{sheet}（已有：{'、'.join(names)}）", code="intake.no_sheet")
    name = sheet if sheet is not None else names[0]
    worksheet = workbook[name]  # type: ignore[index]
    worksheet.reset_dimensions()  # some writers store wrong dimensions; read what is really there
    headers: tuple[str, ...] | None = None
    rows: list[dict[str, CellValue]] = []
    numbers: list[int] = []
    for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if all(_cell(c) is None for c in cells):
            continue
        if headers is None:
            headers = _headers(cells, number)
            continue
        # read-only sheets yield a row only as wide as its last filled cell: short rows are normal there
        rows.append(_row(headers, cells, number, allow_short=True))
        numbers.append(number)
        if len(rows) > max_rows:
            raise InvalidInput(
                f"数据行数超过上限{max_rows}行", code="intake.too_many_rows", max_rows=max_rows
            )
    if headers is None:
        raise InvalidInput("工作表没有表头", code="intake.no_header", sheet=name)
    return Table(headers=headers, rows=rows, row_numbers=numbers, kind="xlsx", sheet=name)
