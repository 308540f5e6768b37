"""The deployment's model folder: which model is active, atomic activation, rollback, and the compare verdict."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.routing.corpus import make_corpus
from xinfang.errors import InvalidInput, NotFound
from xinfang.routing import model_store
from xinfang.routing.compare import verdict
from xinfang.routing.dataset import LabelledDoc
from xinfang.routing.model import CategoryModel
from xinfang.routing.training import train

T = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second small model (another draw of the corpus), so that two versions differ."""
    docs = [LabelledDoc(label=label, text=text) for text, label in make_corpus(n_per_class=20, seed=11)]
    model, _ = train(docs=docs, params={"min_df": 1, "calibration_folds": 3})
    return model.save(tmp_path_factory.mktemp("other") / "category")


def _version(folder: Path) -> str:
    return CategoryModel.load(folder).version()


def test_without_a_model_folder_the_packaged_model_is_active(tmp_path: Path) -> None:
    assert model_store.active_model(None).source == "packaged"
    assert model_store.active_model(tmp_path).source == "packaged"  # set, but empty
    assert model_store.active_model(tmp_path).path == Path(os.path.realpath(model_store.packaged_model_dir()))


def test_a_model_copied_into_the_folder_by_hand_is_used(tmp_path: Path, small_model_dir: Path) -> None:
    for name in ("model.json", "model.npz"):
        (tmp_path / name).write_bytes((small_model_dir / name).read_bytes())
    active = model_store.active_model(tmp_path)
    assert active.source == "local" and active.path == Path(os.path.realpath(tmp_path))
    assert model_store.is_protected(tmp_path / "x", tmp_path)  # it is the active model: not a training target


def test_activate_switches_atomically_and_rollback_swaps_back(
    tmp_path: Path, small_model_dir: Path, other_model_dir: Path
) -> None:
    root = tmp_path / "models"
    first = model_store.activate(root, small_model_dir, now=T)
    assert first["previous"] is None and first["model_version"] == _version(small_model_dir)
    assert (root / "current").is_symlink() and not os.path.isabs(os.readlink(root / "current"))
    assert model_store.active_model(root).path == Path(first["current"])
    key_before = model_store.active_model(root).key

    second = model_store.activate(root, other_model_dir, now=T.replace(minute=31))
    assert model_store.active_model(root).path == Path(second["current"])
    assert model_store.active_model(root).key != key_before  # what processes compare to switch
    assert Path(second["previous"]) == Path(first["current"])
    described = model_store.status(root)
    assert described["active"]["model_version"] == _version(other_model_dir)
    assert described["previous"]["model_version"] == _version(small_model_dir)
    assert described["active"]["activated_at"] == T.replace(minute=31).isoformat()

    back = model_store.rollback(root)
    assert back["model_version"] == _version(small_model_dir)
    assert model_store.status(root)["previous"]["model_version"] == _version(other_model_dir)
    assert model_store.rollback(root)["model_version"] == _version(
        other_model_dir
    )  # a second rollback redoes


def test_activation_keeps_only_current_and_previous(
    tmp_path: Path, small_model_dir: Path, other_model_dir: Path
) -> None:
    root = tmp_path / "models"
    for minute, folder in enumerate((small_model_dir, other_model_dir, small_model_dir)):
        model_store.activate(root, folder, now=T.replace(minute=minute))
    kept = sorted(p.name for p in (root / "versions").iterdir())
    assert len(kept) == 2
    assert {Path(os.path.realpath(root / n)).name for n in ("current", "previous")} == set(kept)


def test_a_folder_that_is_not_a_model_changes_nothing(tmp_path: Path, small_model_dir: Path) -> None:
    root = tmp_path / "models"
    model_store.activate(root, small_model_dir, now=T)
    before = os.readlink(root / "current")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text(json.dumps({"format_version": 99}), encoding="utf-8")
    with pytest.raises(InvalidInput):
        model_store.activate(root, broken, now=T.replace(minute=40))
    tampered = tmp_path / "tampered"
    tampered.mkdir()
    meta = json.loads((small_model_dir / "model.json").read_text(encoding="utf-8"))
    meta["model_version"] = "cat3-000000000000"  # the weights no longer match the version hash
    (tampered / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    (tampered / "model.npz").write_bytes((small_model_dir / "model.npz").read_bytes())
    with pytest.raises(InvalidInput):
        model_store.activate(root, tampered, now=T.replace(minute=41))
    assert os.readlink(root / "current") == before
    assert [p.name for p in (root / "versions").iterdir() if p.name.startswith(".incoming")] == []


def test_rollback_without_a_previous_model_is_refused(tmp_path: Path, small_model_dir: Path) -> None:
    root = tmp_path / "models"
    model_store.activate(root, small_model_dir, now=T)
    with pytest.raises(NotFound):
        model_store.rollback(root)


def test_training_may_not_write_into_the_packaged_or_an_activated_model(
    tmp_path: Path, small_model_dir: Path
) -> None:
    root = tmp_path / "models"
    result = model_store.activate(root, small_model_dir, now=T)
    assert model_store.is_protected(model_store.packaged_model_dir(), root)
    assert model_store.is_protected(model_store.packaged_model_dir(), None)
    assert model_store.is_protected(Path(result["current"]), root)
    assert model_store.is_protected(root / "current", root)
    assert not model_store.is_protected(model_store.candidate_dir(root, T), root)
    assert not model_store.is_protected(tmp_path / "elsewhere", root)


def _figures(accuracy: float, f1: float, per_class: dict[str, float]) -> dict[str, object]:
    return {
        "accuracy": accuracy,
        "macro_f1": f1,
        "per_class_f1": per_class,
        "support": dict.fromkeys(per_class, 20),
    }


def test_the_verdict_is_better_only_without_a_category_regression() -> None:
    current = _figures(0.80, 0.78, {"甲": 0.8, "乙": 0.76})
    assert verdict(current, _figures(0.85, 0.83, {"甲": 0.85, "乙": 0.81}))["verdict"] == "better"
    assert verdict(current, _figures(0.70, 0.70, {"甲": 0.7, "乙": 0.7}))["verdict"] == "worse"
    mixed = verdict(current, _figures(0.86, 0.80, {"甲": 0.95, "乙": 0.65}))  # better overall, 乙 much worse
    assert mixed["verdict"] == "mixed" and mixed["regressions"] == ["乙"] and "乙" in mixed["message"]
    assert verdict(current, _figures(0.82, 0.77, {"甲": 0.8, "乙": 0.75}))["verdict"] == "mixed"
