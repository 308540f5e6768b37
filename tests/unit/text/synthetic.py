"""Synthetic personal-looking data for tests: ID numbers with a valid checksum, phone numbers, and so on."""

from __future__ import annotations

from xinfang.text.ids import id_checksum_char


def make_id_number(region: str = "350428", birth: str = "19850302", seq: str = "123") -> str:
    """A synthetic 18-character ID number whose check character is correct."""
    first17 = region + birth + seq
    return first17 + id_checksum_char(first17)


def make_invalid_checksum(id_number: str) -> str:
    """The same number with a wrong check character."""
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong
