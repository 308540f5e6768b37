"""The review queue, category corrections (recorded, audited) and their way into the next training run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import T0
from tests.dispatch.conftest import FakeAnalyser, Post, fake_analysis
from xinfang.cases.models import Event, Petition
from xinfang.dispatch.models import RoutingCorrection
from xinfang.dispatch.service import corrections_for_training, record_correction
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM
from xinfang.security.models import AuditEntry

Auth = Callable[[str], dict[str, str]]
WANAN = {"division_code": "350428101201"}  # a village of 万安镇, the township user's township


@pytest.fixture
def reviewing(seeded: Runtime) -> Runtime:
    """Every new petition gets the same below-threshold suggestions: zjj, then cgj, then zrzyj."""
    seeded.analyser_override = FakeAnalyser(
        fake_analysis([("zjj", 0.4), ("cgj", 0.3), ("zrzyj", 0.2), ("slj", 0.1)])
    )
    return seeded


def test_the_queue_lists_petitions_waiting_for_review_with_three_suggestions(
    reviewing: Runtime, client: TestClient, auth: Auth, post_petition: Post
) -> None:
    first = post_petition(title="小区道路破损")
    post_petition(title="村道积水", location=WANAN)
    assert first["status"] == "pending_review"
    body = client.get("/api/routing/queue", headers=auth("clerk")).json()
    assert body["total"] == 2
    item = body["items"][0]
    assert item["id"] == first["id"]  # oldest first
    assert [s["code"] for s in item["suggestions"]] == ["zjj", "cgj", "zrzyj"]
    assert item["suggestions"][0]["confidence"] == 0.4 and item["suggested_category"] == "城乡建设"


def test_the_queue_is_scoped(reviewing: Runtime, client: TestClient, auth: Auth, post_petition: Post) -> None:
    post_petition(title="小区道路破损")
    in_wanan = post_petition(title="村道积水", location=WANAN)
    township = client.get("/api/routing/queue", headers=auth("township_wa")).json()
    assert [i["id"] for i in township["items"]] == [in_wanan["id"]] and township["total"] == 1
    assert client.get("/api/routing/queue", headers=auth("handler_rsj")).json()["total"] == 0


def test_a_category_correction_is_recorded_evented_and_audited(
    reviewing: Runtime, client: TestClient, auth: Auth, post_petition: Post
) -> None:
    p = post_petition(title="工资被拖欠")
    assert p["category"] == "城乡建设"
    r = client.post(
        f"/api/petitions/{p['id']}/category", json={"category": "劳动和社会保障"}, headers=auth("clerk")
    )
    assert r.status_code == 200, r.text
    assert r.json()["category"] == "劳动和社会保障"
    with reviewing.session() as s:
        row = s.execute(select(RoutingCorrection)).scalar_one()
        assert (row.suggested_category, row.chosen_category, row.suggested_department) == (
            "城乡建设",
            "劳动和社会保障",
            "zjj",
        )
        kinds = s.execute(select(Event.kind).where(Event.petition_id == p["id"])).scalars().all()
        assert "category_corrected" in kinds
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "petition.category_correct")
        ).scalar_one()
        assert entry.object_id == str(p["id"]) and entry.details == {
            "from": "城乡建设",
            "to": "劳动和社会保障",
        }


def test_an_unknown_category_or_an_unauthorised_user_is_refused(
    reviewing: Runtime, client: TestClient, auth: Auth, post_petition: Post
) -> None:
    p = post_petition()
    r = client.post(
        f"/api/petitions/{p['id']}/category", json={"category": "不存在的分类"}, headers=auth("clerk")
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "petition.unknown_category"
    r = client.post(
        f"/api/petitions/{p['id']}/category", json={"category": "教育文体"}, headers=auth("leader")
    )
    assert r.status_code == 403


def test_a_choice_equal_to_the_top_suggestion_is_not_a_correction(
    reviewing: Runtime, post_petition: Post
) -> None:
    p = post_petition()
    with reviewing.session() as s:
        petition = s.get(Petition, p["id"])
        assert petition is not None
        same = record_correction(s, actor=SYSTEM, petition=petition, chosen_department="zjj", now=T0)
        other = record_correction(s, actor=SYSTEM, petition=petition, chosen_department="cgj", now=T0)
        assert same is None and other is not None
        assert (other.suggested_department, other.chosen_department, other.chosen_category) == (
            "zjj",
            "cgj",
            None,
        )
        s.flush()
        assert corrections_for_training(s) == []  # a department choice alone teaches the classifier nothing


def test_a_recorded_correction_reaches_model_training(
    reviewing: Runtime,
    client: TestClient,
    auth: Auth,
    post_petition: Post,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    p = post_petition(title="工资被拖欠", body="老板拖欠工资三个月。")
    for label in ("教育文体", "劳动和社会保障"):  # the latest correction wins
        client.post(f"/api/petitions/{p['id']}/category", json={"category": label}, headers=auth("clerk"))
    seen: dict[str, Any] = {}

    class Model:
        def save(self, target: Path, metadata: dict[str, Any]) -> None:
            seen["saved"] = target

        def version(self) -> str:
            return "test"

    def fake_train(files: list[Path], *, corrections: list[tuple[str, str]]) -> tuple[Model, dict[str, Any]]:
        seen["corrections"] = list(corrections)
        return Model(), {"n_corrections": len(seen["corrections"])}

    monkeypatch.setattr("xinfang.routing.training.train", fake_train)
    from xinfang.cli import build_app

    data = tmp_path / "train.csv"
    data.write_text("text,label\n", encoding="utf-8")
    args = [
        "model",
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "m"),
        "--db",
        reviewing.settings.database_url,
    ]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert seen["corrections"] == [("工资被拖欠\n老板拖欠工资三个月。", "劳动和社会保障")]
