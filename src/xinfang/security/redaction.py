"""Keep ID numbers and phone numbers that citizens type into a petition's text out of the stored plain text.

The petition's title and body are stored with such numbers masked; when anything was masked, the original text is
kept only SM4-encrypted beside it, for authorised, audited unmasking. Detection reuses the text core's extractors
(the same answer to "is this an ID number / a phone?" everywhere), plus a stricter net: any 18-character run with a
valid ID checksum is masked even where context says it is an order or card number, since a card number is as
sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xinfang.text.entities import find_id_numbers, find_phones
from xinfang.text.ids import is_valid_id_number
from xinfang.text.normalize import to_half_width_simplified

_ANY_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


@dataclass(frozen=True)
class Redacted:
    text: str
    changed: bool


def _spans(text: str) -> list[tuple[int, int]]:
    probe = to_half_width_simplified(text)  # same length as text, so spans carry over
    spans = [(e.start, e.end) for e in (*find_id_numbers(probe), *find_phones(probe))]
    spans += [(m.start(), m.end()) for m in _ANY_ID.finditer(probe) if is_valid_id_number(m.group().upper())]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(spans)):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mask(fragment: str) -> str:
    keep = 3 if len(fragment) <= 13 else 6
    return fragment[:keep] + "*" * max(len(fragment) - keep - 4, 1) + fragment[-4:]


def redact(text: str) -> Redacted:
    spans = _spans(text)
    if not spans:
        return Redacted(text, False)
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(_mask(text[start:end]))
        pos = end
    out.append(text[pos:])
    return Redacted("".join(out), True)
