"""Retraining on local history, end to end: export → train → compare → activate → the analyser uses it → rollback.

Everything runs the way an administrator runs it (the Typer app, the database URL, XINFANG_MODEL_DIR in the
environment), on small synthetic petitions generated here (tests/unit/routing/corpus.py), never on shared data.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_settings
from tests.unit.routing.corpus import make_corpus
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import register_petition
from xinfang.cli import build_app
from xinfang.dispatch.engine import model_state
from xinfang.dispatch.service import correct_category
from xinfang.org.models import User
from xinfang.routing.model import CategoryModel
from xinfang.routing.model_store import active_model
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM, actor_for
from xinfang.security.models import AuditEntry
from xinfang.web.app import create_app

runner = CliRunner()
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
PHONE = "13912345678"
WAGES = "工地老板拖欠农民工工资三个月,包工头不接电话,讨薪无果,希望尽快解决。"


def _cli(*args: str) -> Any:
    result = runner.invoke(build_app(), list(args))
    assert result.exit_code == 0, result.output
    return (
        json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip().startswith("{") else None
    )


def _write_csv(path: Path, seed: int, n_per_class: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "body", "label"])
        writer.writerows((text[:8], text, label) for text, label in make_corpus(n_per_class, seed))
    return path


@pytest.fixture
def history(seeded: Runtime) -> dict[str, Any]:
    """60 labelled petitions: most with the category given at intake, three corrected by the clerk (one of them
    first given a wrong label), two whose category is the engine's unreviewed guess, one with a phone number in
    its text, one without any category, five concluded; half received before 2026."""
    rows = make_corpus(20, seed=5)
    wrong = {"劳动和社会保障": "环境保护", "环境保护": "教育文体", "教育文体": "劳动和社会保障"}
    with seeded.session() as s:
        clerk = actor_for(s.execute(select(User).where(User.username == "clerk")).scalar_one())
        ctx = seeded.intake_context(s)
        petitions = []
        for i, (text, label) in enumerate(rows):
            body = text + (f"联系电话{PHONE}。" if i == 0 else "")
            corrected = i in (1, 2, 3)
            data = PetitionIn(
                channel="visit",
                title=text[:8],
                body=body,
                received_at=T0 - timedelta(days=120 if i % 2 else 10),
                category=None if i == 4 else wrong[label] if corrected else label,
            )
            petition, _ = register_petition(s, actor=SYSTEM, data=data, now=T0, ctx=ctx)
            petitions.append((petition, label))
        s.flush()
        for petition, label in petitions[1:4]:
            correct_category(s, actor=clerk, petition_id=petition.id, category=label, now=T0)
        for petition, label in petitions[5:7]:
            petition.analysis = {"category": {"label": label, "probabilities": {label: 0.9}}}
        for petition, _ in petitions[10:15]:
            petition.status, petition.concluded_at = "concluded", T0
    return {"rows": rows, "corrected_texts": {rows[i][0] for i in (1, 2, 3)}}


def test_export_history_gives_the_final_category_without_personal_numbers(
    seeded: Runtime, history: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "history.csv"
    report = _cli("model", "export-history", "--out", str(out), "--db", seeded.settings.database_url)
    assert report["rows"] == 59  # the petition without a category is left out
    assert report["label_sources"] == {"corrected": 3, "model": 2, "recorded": 54}
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with out.open(encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert list(exported[0]) == ["title", "body", "label", "label_source", "received_on", "status"]
    truth = {text: label for text, label in history["rows"]}
    for row in exported:
        # corrected rows carry the corrected label
        assert row["label"] == truth[row["body"].split("联系电话")[0]]
        if row["body"].split("联系电话")[0] in history["corrected_texts"]:
            assert row["label_source"] == "corrected"
    assert not any(PHONE in row["body"] or PHONE in row["title"] for row in exported)
    assert sum("联系电话" in row["body"] for row in exported) == 1  # the text is there, the number masked

    recent = _cli(
        "model", "export-history", "--out", str(tmp_path / "recent.csv"), "--since", "2026-01-01",
        "--db", seeded.settings.database_url,
    )  # fmt: skip
    assert recent["rows"] == 29  # 30 received in 2026, one of them without a category
    done = _cli(
        "model", "export-history", "--out", str(tmp_path / "done.csv"), "--concluded-only", "--reviewed-only",
        "--db", seeded.settings.database_url,
    )  # fmt: skip
    assert done["rows"] == 5 and "model" not in done["label_sources"]
    with seeded.session() as s:
        actions = s.execute(
            select(AuditEntry.action).where(AuditEntry.action == "model.export_history")
        ).all()
    assert len(actions) == 3


def test_retrain_compare_activate_use_and_roll_back(
    seeded: Runtime, history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = seeded.settings.database_url
    root = tmp_path / "models"
    monkeypatch.setenv("XINFANG_MODEL_DIR", str(root))
    monkeypatch.setenv("XINFANG_ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    # The running app, started before anything is trained: it must follow the switch without a restart.
    rt = Runtime(
        settings=make_settings(db, tmp_path, dispatch_enabled=True, model_dir=root), clock=seeded.clock
    )
    packaged = active_model(None)

    def version_used() -> str:
        with rt.session() as s:
            analyser = rt.intake_analyser(s)
            assert analyser is not None
            return str(analyser("拖欠工资", WAGES)["model_version"])

    packaged_version = CategoryModel.load(packaged.path).version()
    assert version_used() == packaged_version

    history_csv = tmp_path / "history.csv"
    _cli("model", "export-history", "--out", str(history_csv), "--db", db)
    trained = _cli("model", "train", "--data", str(history_csv), "--eval", str(history_csv))  # default --out
    candidate = Path(trained["saved"])
    assert candidate.parent == root / "candidates" and trained["n_documents"] == 59
    meta = json.loads((candidate / "model.json").read_text(encoding="utf-8"))
    assert meta["trained_at"] and meta["metrics"]["eval"]["n"] == 59
    other = Path(_cli("model", "train", "--data", str(_write_csv(tmp_path / "b.csv", 9, 25)), "--out",
                      str(tmp_path / "b"))["saved"])  # fmt: skip

    refused = runner.invoke(
        build_app(), ["model", "train", "--data", str(history_csv), "--out", str(packaged.path)]
    )
    assert refused.exit_code == 2 and "内置模型" in refused.output

    eval_csv = _write_csv(tmp_path / "eval.csv", 77, 10)
    compared = _cli("model", "compare", str(eval_csv), "--candidate", str(candidate), "--json", "--db", db)
    assert compared["current"]["model_version"] == packaged_version
    assert compared["candidate"]["model_version"] == trained["model_version"]
    assert compared["n"] == 30 and compared["top_department"]["n_routed"] == 30
    assert 0 <= compared["top_department"]["share"] <= 1
    assert compared["candidate"]["accuracy"] >= 0.9  # trained on these topics: it must know them
    assert set(compared["candidate"]["per_class_f1"]) == {"劳动和社会保障", "环境保护", "教育文体"}
    assert compared["verdict"] in {"better", "worse", "mixed"} and compared["message"]
    text = runner.invoke(
        build_app(), ["model", "compare", str(eval_csv), "--candidate", str(candidate), "--db", db]
    )
    assert text.exit_code == 0 and "结论:" in text.output and "首位建议单位将改变" in text.output

    _cli("model", "activate", str(candidate), "--db", db)
    assert version_used() == trained["model_version"]  # the same process, on its next request
    app = create_app(rt.settings, runtime=rt)
    with TestClient(app) as client:
        health = client.get("/api/health").json()["model"]
    assert health == {
        "version": trained["model_version"],
        "source": "local",
        "trained_at": meta["trained_at"],
        "load_failed": False,
    }
    status = _cli("model", "status", "--json")
    assert status["active"]["n_documents"] == 59 and status["previous"] is None

    _cli("model", "activate", str(other), "--db", db)
    assert version_used() == CategoryModel.load(other).version()
    _cli("model", "rollback", "--db", db)
    assert version_used() == trained["model_version"]
    assert (
        _cli("model", "status", "--json")["previous"]["model_version"] == CategoryModel.load(other).version()
    )
    with seeded.session() as s:
        actions = list(
            s.execute(
                select(AuditEntry.action).where(AuditEntry.action.like("model.%")).order_by(AuditEntry.seq)
            ).scalars()
        )
    assert actions == ["model.export_history", "model.activate", "model.activate", "model.rollback"]
    rt.dispose()


def test_switching_needs_the_model_folder_and_rollback_needs_a_previous_model(
    seeded: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_model: Path
) -> None:
    db = seeded.settings.database_url
    monkeypatch.delenv("XINFANG_MODEL_DIR", raising=False)
    unset = runner.invoke(build_app(), ["model", "activate", str(small_model), "--db", db])
    assert unset.exit_code == 2 and "XINFANG_MODEL_DIR" in unset.output
    monkeypatch.setenv("XINFANG_MODEL_DIR", str(tmp_path / "models"))
    _cli("model", "activate", str(small_model), "--db", db)
    nothing = runner.invoke(build_app(), ["model", "rollback", "--db", db])
    assert nothing.exit_code == 3 and "上一个模型" in nothing.output


def test_a_damaged_local_model_falls_back_to_the_packaged_one(seeded: Runtime, tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    (root / "model.json").write_text("{not json", encoding="utf-8")
    (root / "model.npz").write_bytes(b"garbage")
    rt = Runtime(
        settings=make_settings(seeded.settings.database_url, tmp_path, dispatch_enabled=True, model_dir=root)
    )
    with rt.session() as s:
        analyser = rt.intake_analyser(s)
        assert analyser is not None
        used = analyser("拖欠工资", WAGES)["model_version"]
    assert used == CategoryModel.load(active_model(None).path).version()
    state = model_state(root)
    assert state["source"] == "local" and state["load_error"]
    rt.dispose()


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xinfang.routing.dataset import LabelledDoc
    from xinfang.routing.training import train

    docs = [LabelledDoc(label=label, text=text) for text, label in make_corpus(15, seed=21)]
    model, _ = train(docs=docs, params={"min_df": 1, "calibration_folds": 3})
    return model.save(tmp_path_factory.mktemp("small") / "category")


def test_the_admin_page_shows_the_active_model(seeded: Runtime) -> None:
    from tests.conftest import PASSWORDS

    app = create_app(seeded.settings, runtime=seeded)
    with TestClient(app) as client:
        login = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
        assert login.status_code in (200, 303), login.text
        page = client.get("/admin?section=model")
    assert page.status_code == 200
    assert CategoryModel.load(active_model(None).path).version() in page.text and "系统内置" in page.text
