"""Which category model is active, and switching a deployment's own models in and out safely.

A deployment keeps its models in one folder (`XINFANG_MODEL_DIR`, Settings.model_dir):

    versions/<time>-<model version>/   model.json, model.npz (+ activation.json): never edited once written
    current  -> versions/...           the active model (a relative symlink)
    previous -> versions/...           the one it replaced, for `xinfang model rollback`
    candidates/                        where `xinfang model train` writes when not told otherwise

Why symlinks: a model is two files, and a process loading while they are being copied could read a new
model.json with an old model.npz. So `activate` copies the candidate into a temporary folder next to the versions,
checks that the copy loads, renames it into versions/ and only then repoints `current` with one atomic rename of a
new symlink over the old one. A reader sees the old model or the new one, never a mixture, and a crash at any
point leaves the previous state intact.

Without the setting, or while the folder holds no model, the packaged model (src/xinfang/data/models/category)
is active. A folder holding model.json directly (a model copied there by hand) is used as it is. The packaged
model is never written by the application.

Why the active model is re-resolved per call (`active_model`, a readlink and a stat): every web and worker process
then picks up an activation or rollback on its next request, without a restart and without any state shared
between processes besides the folder itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xinfang.errors import InvalidInput, NotFound
from xinfang.routing.model import MODEL_JSON, MODEL_NPZ, CategoryModel
from xinfang.text.gazetteer import data_path

CURRENT, PREVIOUS, VERSIONS, CANDIDATES = "current", "previous", "versions", "candidates"
ACTIVATION_JSON = "activation.json"
_LOCK = ".lock"
_INCOMING = ".incoming-"


def packaged_model_dir() -> Path:
    return data_path("models", "category")


@dataclass(frozen=True)
class ActiveModel:
    """Where the active model is. `key` changes whenever another model becomes active (or its files change)."""

    path: Path
    source: str  # "packaged" | "local"

    @property
    def key(self) -> str:
        try:
            stamp = (self.path / MODEL_JSON).stat().st_mtime_ns
        except OSError:
            stamp = 0
        return f"{self.path}@{stamp}"


def active_model(root: Path | str | None) -> ActiveModel:
    """The model a process with this `XINFANG_MODEL_DIR` uses now: root/current, else a model directly in root,
    else the packaged one."""
    if root is not None:
        root = Path(root)
        for candidate in (root / CURRENT, root):
            if (candidate / MODEL_JSON).is_file() and (candidate / MODEL_NPZ).is_file():
                return ActiveModel(Path(os.path.realpath(candidate)), "local")
    return ActiveModel(Path(os.path.realpath(packaged_model_dir())), "packaged")


def read_metadata(folder: Path | str) -> dict[str, Any]:
    """model.json without the stop-word list (thousands of entries, of no interest to a reader)."""
    meta = json.loads((Path(folder) / MODEL_JSON).read_text(encoding="utf-8"))
    meta.pop("stopwords", None)
    return meta


def describe(folder: Path | str, *, source: str | None = None) -> dict[str, Any]:
    """What an administrator needs to know about a model: where, which version, trained when and on what, and the
    figures it was evaluated with (model.json), plus when it was activated (activation.json, if any)."""
    folder = Path(folder)
    try:
        meta = read_metadata(folder)
    except (OSError, ValueError):  # unreadable: still say where it is (the engine reports the load error)
        meta = {}
    data = meta.get("training_data") or {}
    activation_file = folder / ACTIVATION_JSON
    activation = json.loads(activation_file.read_text(encoding="utf-8")) if activation_file.is_file() else {}
    metrics = {
        name: {k: m.get(k) for k in ("n", "accuracy", "macro_f1")}
        for name, m in (meta.get("metrics") or {}).items()
        if isinstance(m, dict) and "accuracy" in m
    }
    return {
        "path": str(folder),
        "source": source,
        "model_version": meta.get("model_version"),
        "trained_at": meta.get("trained_at"),
        "labels": meta.get("labels") or [],
        "n_documents": data.get("n_documents"),
        "n_corrections": data.get("n_corrections"),
        "label_counts": data.get("label_counts") or {},
        "files": data.get("files") or [],
        "metrics": metrics,
        "activated_at": activation.get("activated_at"),
        "activated_from": activation.get("source"),
    }


def status(root: Path | str | None) -> dict[str, Any]:
    """The active model and, in a model folder, the previous one (what a rollback would restore)."""
    active = active_model(root)
    previous = _link_target(Path(root) / PREVIOUS) if root is not None else None
    return {
        "model_dir": str(root) if root is not None else None,
        "active": describe(active.path, source=active.source),
        "previous": describe(previous, source="local") if previous is not None else None,
    }


def is_protected(path: Path | str, root: Path | str | None) -> bool:
    """Would writing into `path` overwrite the packaged model or an activated version (which are never edited)?"""
    target = Path(os.path.realpath(path))
    protected = [Path(os.path.realpath(packaged_model_dir()))]
    if root is not None:
        protected.append(Path(os.path.realpath(Path(root) / VERSIONS)))
        protected += [p for p in (_link_target(Path(root) / n) for n in (CURRENT, PREVIOUS)) if p is not None]
        if (Path(root) / MODEL_JSON).is_file():  # a model copied into the folder by hand is the active one
            protected.append(Path(os.path.realpath(root)))
    return any(target == p or p in target.parents for p in protected)


def candidate_dir(root: Path | str, now: datetime) -> Path:
    """The default output folder of `model train`: candidates/<time> under the model folder."""
    return Path(root) / CANDIDATES / f"{now:%Y%m%d-%H%M%S}"


def activate(root: Path | str, candidate: Path | str, *, now: datetime) -> dict[str, Any]:
    """Make `candidate` (a trained model folder) the active model; the active one becomes `previous`.

    Atomic as seen by readers (see the module docstring); refuses a folder that does not load as a model.
    Versions other than the new current and previous are deleted afterwards.
    """
    root, candidate = Path(root), Path(candidate)
    model = CategoryModel.load(candidate)  # refuses a damaged or foreign folder before anything changes
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        versions = root / VERSIONS
        versions.mkdir(exist_ok=True)
        incoming = Path(tempfile.mkdtemp(prefix=_INCOMING, dir=versions))
        try:
            for name in (MODEL_JSON, MODEL_NPZ):
                shutil.copy2(candidate / name, incoming / name)
                _fsync_file(incoming / name)
            (incoming / ACTIVATION_JSON).write_text(
                json.dumps(
                    {"activated_at": now.isoformat(), "source": str(candidate.resolve())}, ensure_ascii=False
                )
                + "\n",
                encoding="utf-8",
            )
            if CategoryModel.load(incoming).version() != model.version():  # the copy is the model we checked
                raise InvalidInput("复制后的模型文件校验失败", code="model.copy_failed")
            _fsync_dir(incoming)
            target = _free_name(versions / f"{now:%Y%m%dT%H%M%S}-{model.version()}")
            os.rename(incoming, target)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        old = _adopt_plain_current(root)
        if old is not None:
            _point(root / PREVIOUS, old)
        _point(root / CURRENT, target)
        _prune(versions, keep={target, old})
    return {
        "model_version": model.version(),
        "current": str(target),
        "previous": str(old) if old is not None else None,
    }


def rollback(root: Path | str) -> dict[str, Any]:
    """Swap `current` and `previous`: the model active before the last activation is restored, and the one rolled
    back from becomes `previous` (so a second rollback undoes the first)."""
    root = Path(root)
    with _locked(root):
        previous = _link_target(root / PREVIOUS)
        if previous is None or not (previous / MODEL_JSON).is_file():
            raise NotFound(f"{root} 中没有可恢复的上一个模型", code="model.no_previous")
        CategoryModel.load(previous)
        current = _adopt_plain_current(root)
        _point(root / CURRENT, previous)
        if current is not None:
            _point(root / PREVIOUS, current)
    return {
        "model_version": read_metadata(previous).get("model_version"),
        "current": str(previous),
        "previous": str(current) if current is not None else None,
    }


# --- file-system helpers ----------------------------------------------------------------------------------------


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One activation or rollback at a time (two administrators, or a retried command)."""
    with open(root / _LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _link_target(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    target = Path(os.path.realpath(link))
    return target if target.is_dir() else None


def _adopt_plain_current(root: Path) -> Path | None:
    """The folder `current` points to. A real folder named current (made by hand) is first moved into versions/,
    so that it can become `previous` like any other."""
    link = root / CURRENT
    if link.is_symlink():
        return _link_target(link)
    if link.is_dir():
        moved = _free_name(root / VERSIONS / f"manual-{uuid.uuid4().hex[:8]}")
        os.rename(link, moved)
        return moved
    return None


def _point(link: Path, target: Path) -> None:
    """Atomically make `link` a relative symlink to `target` (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}-{uuid.uuid4().hex[:8]}")
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)
    _fsync_dir(link.parent)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _prune(versions: Path, *, keep: set[Path | None]) -> None:
    kept = {Path(os.path.realpath(p)) for p in keep if p is not None}
    for child in versions.iterdir():
        if child.is_dir() and Path(os.path.realpath(child)) not in kept:
            shutil.rmtree(child, ignore_errors=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a rename or new entry durable (a power cut must not bring back the old link)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
