"""Resident ID numbers (GB 11643) and phone numbers: validation and normalisation.

Shared by intake validation and the text extractors, so that "is this an ID number?" has one answer.
"""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ－＋（）　", "0123456789xX-+() ")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def id_checksum_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_birth_date(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(candidate: str) -> bool:
    """18 characters, a plausible birth date, a known-looking region prefix and a correct check character."""
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    if candidate[0] in "09" or candidate[:2] == "00":
        return False
    birth = id_birth_date(candidate)
    if birth is None or not (1900 <= birth.year <= 2100):
        return False
    return id_checksum_char(candidate[:17]) == candidate[17].upper()


def normalise_id_number(raw: str) -> str:
    """Return the canonical form (upper-case X) or raise ValueError with a Chinese message for the clerk."""
    value = raw.translate(_FULLWIDTH).strip().replace(" ", "").upper()
    if not is_valid_id_number(value):
        raise ValueError("身份证号码无效(应为18位且校验位正确)")
    return value


def normalise_phone(raw: str) -> str:
    """Mobile (11 digits, +86 stripped) or landline (area code, optional hyphen); ValueError otherwise."""
    value = raw.translate(_FULLWIDTH).strip().replace(" ", "").replace("(", "").replace(")", "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if MOBILE_RE.match(value):
        return value
    if LANDLINE_RE.match(value):
        return value
    raise ValueError("电话号码无效")
