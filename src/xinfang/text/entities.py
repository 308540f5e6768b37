"""Entity extraction with spans: ID numbers, phones, money, headcounts, dates, periods, organisations, persons.

All extractors work on the normalised text (see normalize.py) and return spans of that text; `analyse_text`
maps them back to the original. ID numbers and phones are masked in `text`; the raw value lives only in `raw`,
which `to_dict()` leaves out, so nothing serialised can leak it.

Precision notes (measured in the report, be honest): person names are rule-based (surname list + context cues)
and find roughly the names introduced by a cue; they miss bare names and may take one character too many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from xinfang.text.ids import id_birth_date, is_valid_id_number
from xinfang.text.numerals import NUMBER, is_approximate, parse_number


@dataclass(slots=True)
class Entity:
    """One extracted entity. `raw` holds an unmasked ID/phone for in-memory use only and is never serialised."""

    type: str
    text: str
    start: int
    end: int
    value: Any = None
    raw: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "value": self.value,
        }


# --- ID numbers and phones --------------------------------------------------------------------------------
# -----

_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_NOT_ID_CONTEXT = re.compile(
    r"(订单|单号|卡号|银行卡|账号|帐号|流水|编号|票号|运单|快递|合同号|工号|车架)[号码:：是为\s]{0,3}$"
)
_MOBILE_RE = re.compile(
    r"(?<![\d])(?<!\d[- ])(?:(?:\+|00)?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![\d])(?![- ]\d)"
)
_LANDLINE_RE = re.compile(r"(?<![\d])(?<!\d[- ])\(?(0[1-9]\d{1,2})\)?[- ]?(\d{7,8})(?![\d])(?![- ]\d)")
_PHONE_CONTEXT = re.compile(r"(电话|手机|联系|座机|号码|热线|tel|Tel|TEL)")


def mask_id_number(value: str) -> str:
    return value[:4] + "*" * 10 + value[-4:]


def mask_phone(value: str) -> str:
    digits = value.replace("-", "")
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    return digits[:4] + "*" * max(len(digits) - 6, 1) + digits[-2:]


def find_id_numbers(text: str, *, region_names: dict[str, str] | None = None) -> list[Entity]:
    """Valid 18-character IDs (checksum, birth date, province prefix), not order or card numbers by context."""
    found: list[Entity] = []
    for m in _ID_RE.finditer(text):
        value = m.group().upper()
        if not is_valid_id_number(value) or not ("11" <= value[:2] <= "82"):
            continue
        if _NOT_ID_CONTEXT.search(text[max(0, m.start() - 8) : m.start()]):
            continue
        birth = id_birth_date(value)
        region = value[:6]
        info = {
            "birth_date": birth.isoformat() if birth else None,
            "region_code": region,
            "region": (region_names or {}).get(region),
            "gender": "男" if int(value[16]) % 2 else "女",
        }
        found.append(Entity("id_number", mask_id_number(value), m.start(), m.end(), info, raw=value))
    return found


def find_phones(text: str) -> list[Entity]:
    """Mobiles (11 digits, optional +86 and separators) and landlines (area code, with hyphen or a phone cue)."""
    found: list[Entity] = []
    for m in _MOBILE_RE.finditer(text):
        raw = "".join(m.groups())
        found.append(Entity("phone", mask_phone(raw), m.start(), m.end(), {"kind": "mobile"}, raw=raw))
    taken = [(e.start, e.end) for e in found]
    for m in _LANDLINE_RE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        separated = m.group() != m.group(1) + m.group(2)
        if not separated and not _PHONE_CONTEXT.search(text[max(0, m.start() - 10) : m.start()]):
            continue
        raw = f"{m.group(1)}-{m.group(2)}"
        found.append(Entity("phone", mask_phone(raw), m.start(), m.end(), {"kind": "landline"}, raw=raw))
    return found


# --- money, headcounts, dates, periods --------------------------------------------------------------------
# -----

_APPROX = r"(?:多|余|来|几)?"
_MONEY_RE = re.compile(
    rf"(?<!\d[.,])(?<!\d)({NUMBER}{_APPROX}(?:[万亿]{_APPROX})?(?:[零〇一二两三四五六七八九十百千\d]+)?)"
    r"\s?(元|块钱|块|万元|亿元)(?!钱)"
)
_GROUP_NOUNS = (
    "村民|农民工|工人|职工|员工|业主|群众|居民|家长|学生|教师|老师|户主|农户|住户|商户|退伍军人|老人|人"
)
_HEADCOUNT_RE = re.compile(
    rf"(?<!\d[.,])(?<!\d)(上|近|约|共)?({NUMBER}{_APPROX})(户|名|位|人|家)(?:({_GROUP_NOUNS}))?"
)
_DATE_RE = re.compile(
    r"(?<!\d)(?:(\d{4})\s?年\s?(?:(\d{1,2})\s?月\s?(?:(\d{1,2})\s?[日号])?)?"
    r"|(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?!\d)"
    r"|(去年|前年|今年|明年|上个?月|本月|这个月|上周|昨天|前天|今天)(?:(\d{1,2}|[一二三四五六七八九十]{1,3})\s?月"
    r"(?:\s?(\d{1,2}|[一二三四五六七八九十]{1,3})\s?[日号])?)?"
    r"|(?<![年\d])(\d{1,2})\s?月\s?(\d{1,2})\s?[日号])"
)
_PERIOD_RE = re.compile(
    rf"({NUMBER}|半|几|数)\s?(个)?(多|余|来)?\s?(年|个月|月|周|星期|天|日)(多|余|来)?(?:以来|来|之久)?"
)
_PERIOD_DAYS = {"年": 365, "个月": 30, "月": 30, "周": 7, "星期": 7, "天": 1, "日": 1}


def find_money(text: str) -> list[Entity]:
    """Amounts ending in a currency unit (元/块/万元); "200余人" has no unit and is not money."""
    found: list[Entity] = []
    for m in _MONEY_RE.finditer(text):
        number, unit = m.group(1), m.group(2)
        value = parse_number(number)
        if value is None:
            continue
        if unit in ("万元", "亿元"):
            value *= 10_000 if unit == "万元" else 100_000_000
        info = {"amount": value, "currency": "CNY", "approximate": is_approximate(number)}
        found.append(Entity("money", m.group(), m.start(), m.end(), info))
    return found


def find_headcounts(text: str) -> list[Entity]:
    """Numbers of people/households ("30多户村民", "百余名工人"); single persons are not a headcount."""
    found: list[Entity] = []
    for m in _HEADCOUNT_RE.finditer(text):
        number, unit, noun = m.group(2), m.group(3), m.group(4)
        if unit == "家" and not noun:
            continue
        value = parse_number(number)
        if value is None or value < 2:
            continue
        info = {"count": int(value), "unit": unit, "who": noun, "approximate": is_approximate(m.group())}
        found.append(Entity("headcount", m.group(), m.start(), m.end(), info))
    return found


def _small_int(text: str | None) -> int | None:
    if not text:
        return None
    value = parse_number(text)
    return int(value) if value is not None else None


def _relative_year_month(word: str, ref: date) -> tuple[int, int | None]:
    if word in ("去年", "前年", "今年", "明年"):
        return ref.year + {"去年": -1, "前年": -2, "今年": 0, "明年": 1}[word], None
    if word.startswith("上"):
        return (ref.year, ref.month - 1) if ref.month > 1 else (ref.year - 1, 12)
    return ref.year, ref.month


def _resolve_date(m: re.Match[str], ref: date) -> dict[str, Any] | None:
    g = m.groups()
    if g[0] or g[3]:
        year, month, day = int(g[0] or g[3]), _small_int(g[1] or g[4]), _small_int(g[2] or g[5])
        relative = False
    elif g[6]:
        word = g[6]
        if word in ("上周", "昨天", "前天", "今天"):
            delta = {"上周": 7, "昨天": 1, "前天": 2, "今天": 0}[word]
            return {
                "date": date.fromordinal(ref.toordinal() - delta).isoformat(),
                "precision": "day",
                "relative": True,
            }
        year, month = _relative_year_month(word, ref)
        month = _small_int(g[7]) or month
        day = _small_int(g[8])
        relative = True
    else:
        year, month, day, relative = ref.year, _small_int(g[9]), _small_int(g[10]), False
    return _date_value(year, month, day, relative)


def _date_value(year: int, month: int | None, day: int | None, relative: bool) -> dict[str, Any] | None:
    if not (1900 <= year <= 2100) or (month is not None and not 1 <= month <= 12):
        return None
    try:
        if month and day:
            return {"date": date(year, month, day).isoformat(), "precision": "day", "relative": relative}
    except ValueError:
        return None
    if month:
        return {"date": f"{year:04d}-{month:02d}", "precision": "month", "relative": relative}
    return {"date": f"{year:04d}", "precision": "year", "relative": relative}


def find_dates(text: str, *, reference_date: date) -> list[Entity]:
    """Absolute and relative dates; relative ones ("去年3月") are resolved against `reference_date`."""
    found: list[Entity] = []
    for m in _DATE_RE.finditer(text):
        value = _resolve_date(m, reference_date)
        if value is not None:
            found.append(
                Entity("date", m.group().strip(), m.start(), m.start() + len(m.group().rstrip()), value)
            )
    return found


def find_periods(text: str, *, taken: list[tuple[int, int]]) -> list[Entity]:
    """Durations ("三个多月", "两年", "十多天"); skips spans already taken by dates ("2019年")."""
    found: list[Entity] = []
    for m in _PERIOD_RE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        number, unit = m.group(1), m.group(4)
        if unit in ("月", "日") and not m.group(2) and unit == "月":
            continue  # "3月" is a month name, not a duration; "三个月" has 个
        if unit == "日" or (unit == "年" and number.isdigit() and len(number) == 4):
            continue
        amount = 0.5 if number == "半" else 3.0 if number in ("几", "数") else parse_number(number)
        if amount is None:
            continue
        approx = bool(m.group(3) or m.group(5)) or number in ("几", "数")
        info = {
            "amount": amount,
            "unit": unit,
            "days": round(amount * _PERIOD_DAYS[unit]),
            "approximate": approx,
        }
        found.append(Entity("period", m.group(), m.start(), m.end(), info))
    return found


# --- organisations and persons ----------------------------------------------------------------------------
# -----

_ORG_SUFFIX = re.compile(
    r"(?:有限责任公司|股份有限公司|有限公司|集团|公司|中心小学|小学|中学|幼儿园|大学|学院|学校|中心医院|人民医院|医院|卫生院"
    r"|诊所|小区|花园|家园|公寓|物业|工厂|厂|银行|信用社|酒店|超市|合作社|养殖场|加工厂|砖厂|石场)+"
)
_ORG_STOP = set(
    "的了在是被把给和与向到对从我你他她它们该这那个所及或就都也还已要让于等为之这里中上下因由其并而住买租进告说找"
)
_ORG_MIN_PREFIX = 2
_ORG_MAX_PREFIX = 16


def find_organisations(text: str) -> list[Entity]:
    """Names ending in an organisation suffix, extended left over name characters up to a stop character."""
    found: list[Entity] = []
    last_end = 0
    for m in _ORG_SUFFIX.finditer(text):
        start = m.start()
        while start > last_end and m.start() - start < _ORG_MAX_PREFIX:
            ch = text[start - 1]
            if ch in _ORG_STOP or not (ch.isalnum() or ch in "()·"):
                break
            start -= 1
        if m.start() - start < _ORG_MIN_PREFIX:
            continue
        kind = _org_kind(m.group())
        found.append(Entity("organisation", text[start : m.end()], start, m.end(), {"kind": kind}))
        last_end = m.end()
    return found


def _org_kind(suffix: str) -> str:
    if suffix.endswith(("小区", "花园", "家园", "公寓", "物业")):
        return "estate"
    if suffix.endswith(("学", "幼儿园", "学院", "学校")):
        return "school"
    if suffix.endswith(("医院", "卫生院", "诊所")):
        return "hospital"
    return "company"


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤兰温官练饶卓"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "司徒")
# Zero-width: finds every position where a surname starts, so the scan skips the other characters in C.
_SURNAME_START = re.compile(
    "(?=" + "|".join([*map(re.escape, _COMPOUND_SURNAMES), "[" + re.escape("".join(_SURNAMES)) + "]"]) + ")"
)
_NAME_STOP = set("是在的了和与向到对从于因为被把给今现年男女系住家村镇乡县市省说称等某先生女士同志反映")
_PETITIONER_CUE = re.compile(r"(我叫|本人|我是|姓名[:：]?|名叫|署名[:：]?|信访人[:：]?|反映人[:：]?)\s?$")
_OTHER_CUE = re.compile(
    r"(村民|业主|工人|老板|老师|医生|包工头|承包人|负责人|法人|员工|村干部|邻居|丈夫|妻子|儿子|女儿|叫|名为)\s?$"
)
_TITLE_AFTER = re.compile(
    r"(书记|主任|村长|镇长|乡长|县长|局长|所长|队长|组长|经理|老板|校长|院长|师傅|会计|站长|老师|医生|警官)"
)


def _name_at(text: str, start: int) -> int:
    """End of a personal name beginning at `start` (surname + up to two given-name characters), or `start`."""
    surname_len = 2 if text.startswith(_COMPOUND_SURNAMES, start) else 1
    if surname_len == 1 and (start >= len(text) or text[start] not in _SURNAMES):
        return start
    end = start + surname_len
    while end < len(text) and end - start < surname_len + 2:
        ch = text[end]
        if not ("\u4e00" <= ch <= "\u9fff") or ch in _NAME_STOP or _TITLE_AFTER.match(text, end):
            break
        end += 1
    return end if end > start + surname_len else start


def _person_at(text: str, i: int) -> Entity | None:
    """A person starting at i: surname + title ("张书记"), or a name after a cue or before a title."""
    surname = text[i : i + 2] if text.startswith(_COMPOUND_SURNAMES, i) else text[i]
    title = _TITLE_AFTER.match(text, i + len(surname))
    if title:
        end = title.end()
        return Entity(
            "person", text[i:end], i, end, {"role": "other", "surname": surname, "title": title.group()}
        )
    end = _name_at(text, i)
    if end == i:
        return None
    before = text[max(0, i - 6) : i]
    title = _TITLE_AFTER.match(text, end)
    if _PETITIONER_CUE.search(before):
        role = "petitioner"
    elif _OTHER_CUE.search(before) or title:
        role = "other"
    else:
        return None
    info: dict[str, Any] = {"role": role, "surname": surname}
    if title:
        info["title"] = title.group()
    return Entity("person", text[i:end], i, end, info)


def find_persons(text: str) -> list[Entity]:
    """Names after a cue (我叫/本人 → petitioner; 村民/老板/... → other) and surname + title ("张书记")."""
    found: list[Entity] = []
    end = 0
    for match in _SURNAME_START.finditer(text):  # the positions where a surname starts, left to right
        i = match.start()
        if i < end:
            continue
        entity = _person_at(text, i)
        if entity is not None:
            found.append(entity)
            end = entity.end
    return found
