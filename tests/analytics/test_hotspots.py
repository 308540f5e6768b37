"""Hot matters: clustering constructed texts, incremental assignment at intake, the CLI JSON contract, the API."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from xinfang.cli import build_app
from xinfang.dispatch.models import PetitionLink
from xinfang.hotspots.engine import MatterIndex, Record, cluster
from xinfang.hotspots.models import HotMatter, HotMatterMember
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
T = datetime(2026, 2, 1, tzinfo=UTC)

# Matter A: one estate's parking spaces sold bundled with flats, told in different words.
ESTATE = [
    (
        "翠湖花园捆绑销售车位",
        "翠湖花园小区开发商要求业主买房必须同时购买车位,否则不给签合同,请求查处捆绑销售。",
    ),
    ("投诉翠湖花园开发商强制捆绑车位", "翠湖花园开发商强行捆绑销售车位,每个车位十二万元,业主无法接受。"),
    ("翠湖花园车位捆绑销售是否合法", "请问翠湖花园小区开发商把车位和住房捆绑销售是否违法,相关部门应当查处。"),
    ("反对翠湖花园强制购买车位", "我们是翠湖花园的购房户,开发商强制购买车位,捆绑销售,请求住建部门处理。"),
]
# Matter B: a concrete plant's noise and dust at night.
PLANT = [
    ("宏达搅拌站夜间噪音扰民", "宏达搅拌站每天夜里施工,噪音很大,灰尘污染严重,附近居民无法入睡。"),
    (
        "投诉宏达混凝土搅拌站粉尘污染",
        "宏达混凝土搅拌站粉尘污染和噪音扰民,晚上十二点还在生产,请环保部门查处。",
    ),
    ("宏达搅拌站噪音灰尘严重影响居民", "宏达搅拌站离居民区太近,噪音和灰尘让居民苦不堪言,要求搬迁。"),
]
NEW_ESTATE = ("翠湖花园开发商捆绑销售车位问题", "翠湖花园小区购房必须买车位,开发商捆绑销售,请求尽快解决。")


def _records(items: list[tuple[str, str]], prefix: str) -> list[Record]:
    return [
        Record(id=f"{prefix}{i}", title=t, body=b, at=T + timedelta(days=i)) for i, (t, b) in enumerate(items)
    ]


def test_two_matters_become_two_clusters() -> None:
    index = cluster(_records(ESTATE, "a") + _records(PLANT, "b"))
    groups = sorted(sorted(m.member_ids) for m in index.matters)
    assert groups == [["a0", "a1", "a2", "a3"], ["b0", "b1", "b2"]]
    estate = next(m for m in index.matters if "a0" in m.member_ids)
    assert "翠湖花园" in estate.label and "车位" in estate.key_terms


def test_a_new_record_joins_its_matter_without_reclustering() -> None:
    index = MatterIndex()
    for r in _records(ESTATE, "a") + _records(PLANT, "b"):
        index.add(r)
    before = [list(m.member_ids) for m in index.matters]
    matter = index.add(Record(id="new", title=NEW_ESTATE[0], body=NEW_ESTATE[1], at=T + timedelta(days=9)))
    assert "a0" in matter.member_ids and matter.member_ids[-1] == "new"
    assert [m.member_ids[: len(b)] for m, b in zip(index.matters, before, strict=True)] == before


def test_intake_assigns_petitions_to_matters_and_links_across_sources(seeded: Runtime, reg: Any) -> None:
    with seeded.session() as s:
        ids_a = [
            reg(s, title=t, body=b, days_ago=10 - i, source="12345" if i == 0 else "desk").id
            for i, (t, b) in enumerate(ESTATE)
        ]
        ids_b = [
            reg(s, title=t, body=b, days_ago=8 - i, category="环境保护").id for i, (t, b) in enumerate(PLANT)
        ]
        new = reg(s, title=NEW_ESTATE[0], body=NEW_ESTATE[1], days_ago=0.5, source="grid", channel="grid")
    with seeded.session() as s:
        member = dict(s.execute(select(HotMatterMember.petition_id, HotMatterMember.matter_id)).all())
        assert len({member[i] for i in ids_a}) == 1 and len({member[i] for i in ids_b}) == 1
        assert member[ids_a[0]] != member[ids_b[0]]
        assert member[new.id] == member[ids_a[0]]
        matter = s.get(HotMatter, member[new.id])
        assert matter is not None and matter.size == 5
        links = s.execute(select(PetitionLink).where(PetitionLink.petition_id == new.id)).scalars().all()
        # the grid report is linked as the same matter to the matter's records from other sources within 7 days
        # (only the last estate petition is that recent); the same-name link to it becomes "both"
        kinds = {lk.earlier_id: lk.kind for lk in links}
        assert kinds[ids_a[3]] == "both"
        assert all(kinds.get(i) != "both" for i in ids_a[:3])


def test_the_api_ranks_hot_matters(seeded: Runtime, reg: Any, client: TestClient, auth: Auth) -> None:
    with seeded.session() as s:
        for i, (t, b) in enumerate(ESTATE):
            reg(s, title=t, body=b, days_ago=3 - i * 0.5, id_number=None, phone=f"1380000000{i}")
        for i, (t, b) in enumerate(PLANT):
            reg(s, title=t, body=b, days_ago=60 + i)
    r = client.get("/api/analytics/hot-matters?from=2025-12-01&to=2026-03-01", headers=auth("clerk"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [it["size"] for it in items] == [
        4,
        3,
    ]  # the recent estate matter is hotter than the older plant one
    assert items[0]["distinct_petitioners"] == 4 and items[0]["trend"] in ("rising", "steady")
    assert items[0]["heat"] > items[1]["heat"]
    r = client.get("/api/analytics/hot-matters?format=xlsx", headers=auth("clerk"))
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_the_cli_prints_one_json_object(tmp_path: Path) -> None:
    path = tmp_path / "messages.csv"
    with path.open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情"])
        for i, (t, b) in enumerate(ESTATE + PLANT):
            w.writerow([f"m{i}", f"u{i}", t, f"2026/2/{i + 1} 10:00:00", b])
    result = CliRunner().invoke(build_app(), ["hotspots", str(path), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    data = json.loads(lines[-1])
    assert set(data) == {"matters"}
    sizes = sorted((m["size"], sorted(m["ids"])) for m in data["matters"])
    assert sizes == [(3, ["m4", "m5", "m6"]), (4, ["m0", "m1", "m2", "m3"])]
    first = data["matters"][0]
    assert {"label", "ids", "size", "distinct_petitioners", "trend", "heat", "first_at", "last_at"} <= set(
        first
    )
    text = CliRunner().invoke(build_app(), ["hotspots", str(path)])
    assert text.exit_code == 0 and "2 个事项" in text.output
