"""Synthetic test data: ID numbers with a valid check character, petition payloads."""

from __future__ import annotations

import random
from typing import Any

from xinfang.text.ids import id_checksum_char


def fake_id_number(*, seed: int, region: str = "350428") -> str:
    rng = random.Random(seed)
    first17 = f"{region}{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first17 + id_checksum_char(first17)


def petition_payload(
    *,
    title: str = "工资被拖欠三个月",
    body: str = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。",
    channel: str = "visit",
    id_number: str | None = None,
    phone: str | None = None,
    location: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    person: dict[str, Any] = {"name": "张测试", "address": "将乐县古镛镇测试路1号"}
    if id_number:
        person["id_number"] = id_number
    if phone:
        person["phone"] = phone
    payload: dict[str, Any] = {"channel": channel, "title": title, "body": body, "petitioners": [person]}
    if location:
        payload["location"] = location
    return payload | extra
