"""Numbers written in Arabic digits, Chinese numerals or a mix ("3.5万", "两千多", "12,000", "百余").

Why our own: money, headcounts and periods in petitions mix notations freely, and the extractors need one
parser
that says both the value and whether it was approximate ("多", "余", "几", "来").
"""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
APPROX_MARKS = "多余几来左右"

# A number token: Arabic (with thousands separators and decimals) or Chinese numerals, optionally followed
# by a
# big unit. Used inside larger patterns, so it has no anchors.
NUMBER = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?)"
NUMBER_RE = re.compile(NUMBER)
_ARABIC = re.compile(r"^\d+(?:,\d{3})*(?:\.\d+)?$")


def _parse_chinese_int(text: str) -> int | None:
    """Chinese numerals below 10,000 ("三千五百", "十五", "两百"); None if it is not a number."""
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            total += (current or 1) * _SMALL_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def _parse_plain(text: str) -> float | None:
    if not text:
        return None
    if _ARABIC.match(text):
        return float(text.replace(",", ""))
    if "点" in text:
        whole, _, frac = text.partition("点")
        head = _parse_chinese_int(whole) if whole else 0
        digits = "".join(str(_DIGITS.get(ch, "")) for ch in frac)
        if head is None or not digits:
            return None
        return float(f"{head}.{digits}")
    value = _parse_chinese_int(text)
    return float(value) if value is not None else None


def parse_number(text: str) -> float | None:
    """Parse a number with optional big units ("3.5万" → 35000, "一亿两千万" → 120000000, "两千多" → 2000)."""
    text = text.strip().rstrip(APPROX_MARKS)
    if not text:
        return None
    total = 0.0
    rest = text
    for unit in ("亿", "万"):
        if unit in rest:
            head, _, rest = rest.partition(unit)
            head = head.rstrip(APPROX_MARKS)
            value = _parse_plain(head) if head else 1.0
            if value is None:
                return None
            total += value * _BIG_UNITS[unit]
    rest = rest.strip(APPROX_MARKS)
    if rest:
        value = _parse_plain(rest)
        if value is None:
            return None
        total += value
    return total


def is_approximate(text: str) -> bool:
    """True when the phrase says "about" (多/余/几/来/左右)."""
    return any(mark in text for mark in APPROX_MARKS)
