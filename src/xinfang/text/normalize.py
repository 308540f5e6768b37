"""Normalisation of petition text with an offset map back to the original.

Why an offset map: extractors work on one canonical form (half-width, simplified, whitespace collapsed),
but the UI
highlights entities in the text the clerk registered, so every span must be translated back to the original.
Full-width → half-width and traditional → simplified are one character to one character (str.translate); only
whitespace collapsing and zero-width removal change the length, and only those need the map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from xinfang.text._t2s_table import SIMPLIFIED, TRADITIONAL

_WS_RUN = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


@dataclass(frozen=True, slots=True)
class Normalised:
    """Normalised text plus, for each of its characters, the index of the source character in `original`."""

    text: str
    offsets: tuple[int, ...]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of `text` to the half-open span of `original` it came from."""
        if start >= end:
            pos = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


@lru_cache(maxsize=1)
def _char_table() -> dict[int, str]:
    """One translate table: full-width ASCII → ASCII, ideographic space → space, traditional → simplified."""
    table: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "
    table[0x00A0] = " "
    for trad, simp in zip(TRADITIONAL, SIMPLIFIED, strict=True):
        table[ord(trad)] = simp
    return table


def to_half_width_simplified(text: str) -> str:
    """The 1:1 part of normalisation (same length as the input); useful for training text without spans."""
    return text.translate(_char_table())


def normalise(text: str) -> Normalised:
    """Half-width, simplified, whitespace runs collapsed (a run with a newline becomes one newline), trimmed."""
    mapped = to_half_width_simplified(text)
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for match in _WS_RUN.finditer(mapped):
        start, end = match.span()
        pieces.append(mapped[pos:start])
        offsets.extend(range(pos, start))
        run = match.group()
        if start > 0 and end < len(mapped) and not all(ch in _ZERO_WIDTH for ch in run):
            pieces.append("\n" if "\n" in run or "\r" in run else " ")
            offsets.append(start)
        pos = end
    pieces.append(mapped[pos:])
    offsets.extend(range(pos, len(mapped)))
    return Normalised(text="".join(pieces), offsets=tuple(offsets), original=text)


def _replace_run(match: re.Match[str]) -> str:
    run = match.group()
    if match.start() == 0 or match.end() == len(match.string) or all(ch in _ZERO_WIDTH for ch in run):
        return ""
    return "\n" if "\n" in run or "\r" in run else " "


def normalise_text(text: str) -> str:
    """`normalise(text).text` without building the offset map (the route path needs no spans)."""
    return _WS_RUN.sub(_replace_run, to_half_width_simplified(text))
