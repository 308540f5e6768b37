"""Masking rules for personal data shown on screens, in API responses and exports (GB/T 35273 practice)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """Keep the region (6) and the last 4: enough to tell two people apart on a list, not enough to identify one."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    digits = value.replace("-", "")
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return (
        value[:3] + "*" * (len(value) - 7) + value[-4:]
        if len(value) > 7
        else "*" * (len(value) - 2) + value[-2:]
    )
