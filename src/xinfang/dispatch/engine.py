"""The dispatch engine a process routes with: the active category model and the organisation's places.

A pipeline (xinfang.routing.pipeline) is a model, a gazetteer, the departments and the rules. Here the first three
are chosen for the deployment, per request and without restarts:

- the model is the active one of `XINFANG_MODEL_DIR` (routing.model_store: re-resolved on every call, so
  `xinfang model activate` / `rollback` reach every process on its next request), else the packaged model;
- the gazetteer and the departments come from the organisation in the database (org.geography: what
  `xinfang org import` loaded), else the shipped demo county.

Pipelines are cached by (model key, organisation fingerprint); the dispatch service adds the rules on top (keyed
by their hash as well). A local model that fails to load is logged and the packaged model used instead, so a
damaged file cannot stop intake; `model_state` reports it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinfang.cases.service import Analyser
from xinfang.org.geography import Geography, county_data, departments, read_geography
from xinfang.routing.departments import Department, default_departments, with_townships
from xinfang.routing.model import CategoryModel
from xinfang.routing.model_store import ActiveModel, active_model, describe
from xinfang.routing.pipeline import DispatchPipeline
from xinfang.routing.router import Router
from xinfang.text.gazetteer import Gazetteer, data_path

log = logging.getLogger(__name__)
SHIPPED = "shipped"


@lru_cache(maxsize=1)
def shipped_pipeline() -> DispatchPipeline:
    """The packaged model, shipped rules and demo county (≈1 s): loaded once per process, read-only afterwards."""
    return DispatchPipeline.load_default()


class _Cache:
    """A small LRU of built objects; a build runs outside the lock (two threads may build the same key once)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_models = _Cache(2)
_bases = _Cache(4)
_described = _Cache(4)  # model.json read once per model key (the health check asks on every probe)
_failed: dict[str, str] = {}  # model key -> why it did not load (not retried: a load costs about a second)


def load_model(active: ActiveModel) -> CategoryModel:
    """The model of `active`, loaded once per key; the packaged model when it is the packaged one or fails."""
    if active.source == "packaged" or active.key in _failed:
        return shipped_pipeline().model

    def build() -> CategoryModel:
        try:
            return CategoryModel.load(active.path)
        except Exception as exc:  # any damage (format, hash, truncated npz) means the same: do not use it
            _failed[active.key] = f"{type(exc).__name__}: {exc}"
            log.error("category model %s failed to load, using the packaged model: %s", active.path, exc)
            return shipped_pipeline().model

    model: CategoryModel = _models.get(active.key, build)
    return model


def _organisation(geography: Geography) -> tuple[Gazetteer, dict[str, Department]]:
    """Gazetteer and departments from the database rows: the shipped departments (so that the shipped rules stay
    valid) overlaid with the database's names, plus one government per township."""
    county = county_data(geography)
    if county is None:  # pragma: no cover - callers only come here when the database has townships
        raise ValueError("no township in the organisation")
    national = data_path("geo", "divisions_cn.tsv").read_text(encoding="utf-8")
    gazetteer = Gazetteer.from_data(county, national)
    units = dict(default_departments())
    for d in departments(geography):
        units[d["code"]] = Department(d["code"], d["name"], d["kind"], d["short"])
    return gazetteer, with_townships(units, gazetteer)


def base_pipeline(session: Session | None, *, model_dir: Path | None = None) -> tuple[str, DispatchPipeline]:
    """(key, pipeline) with the active model, the organisation's places and departments, and the shipped rules."""
    active = active_model(model_dir)
    geography = read_geography(session) if session is not None else None
    geo_key = geography.fingerprint if geography is not None and geography.has_places else SHIPPED
    if active.source == "packaged" and geo_key == SHIPPED:
        return SHIPPED, shipped_pipeline()
    key = f"{active.key}|{geo_key}"

    def build() -> DispatchPipeline:
        shipped = shipped_pipeline()
        model = load_model(active)
        if geography is None or geo_key == SHIPPED:
            gazetteer, units = shipped.gazetteer, shipped.departments
        else:
            gazetteer, units = _organisation(geography)
        # The shipped rules name only shipped departments, all of which `units` keeps: no re-validation needed.
        router = Router(shipped.router.rules, units)
        return DispatchPipeline(
            model=model, router=router, gazetteer=gazetteer, model_version=model.version()
        )

    pipeline: DispatchPipeline = _bases.get(key, build)
    return key, pipeline


def sessionless_analyser(model_dir: Path | None) -> Analyser:
    """An analyser without a database (the shipped organisation), still following the active model."""
    if model_dir is None:
        return shipped_pipeline().analyse

    def analyse(title: str, body: str, *, reference_date: date | None = None) -> dict[str, Any]:
        return base_pipeline(None, model_dir=model_dir)[1].analyse(title, body, reference_date=reference_date)

    return analyse


def model_state(model_dir: Path | None) -> dict[str, Any]:
    """The active model as an administrator sees it (path, version, training data, figures) and whether this
    process could load it."""
    active = active_model(model_dir)
    key = active.key
    info = dict(_described.get(key, lambda: describe(active.path, source=active.source)))
    info["load_error"] = _failed.get(key)
    return info
