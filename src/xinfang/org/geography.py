"""The county's places and departments as the dispatch engine needs them, read from the organisation tables.

Place recognition (text.gazetteer) and the router's department names used to come from the demo county's files only
(data/geo/demo_county.json, data/departments.yaml). A real county's townships, villages and departments are
imported into `org_units` (`xinfang org import`), so the engine reads them from there:

- `county_data` gives the gazetteer's input (the demo_county.json shape: county, province, city, townships with
  aliases and villages). The county is the 6-digit prefix the township codes share; its name is that of the
  imported county unit, and its province and city names come from the short national list in
  data/geo/divisions_cn.tsv (provinces and prefectures).
- `departments` gives the routable units' names, which the router prints in its suggestions.
- `fingerprint` is a hash of exactly those rows: the dispatch service keys its cached pipelines by it, so an import
  reaches every instance on its next request.

With no township in the database (a fresh installation, or tests without an organisation) there is nothing to read
and the shipped demo geography stays in use.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind
from xinfang.org.models import OrgUnit
from xinfang.text.gazetteer import data_path

_KINDS = (
    OrgKind.BUREAU.value,
    OrgKind.DEPARTMENT.value,
    OrgKind.COUNTY.value,
    OrgKind.TOWNSHIP.value,
    OrgKind.VILLAGE.value,
)


@dataclass(frozen=True)
class Geography:
    """The organisation rows the engine depends on, in a stable order, and their hash."""

    rows: tuple[tuple[Any, ...], ...]  # (id, code, name, short_name, kind, parent_id, aliases)
    fingerprint: str

    @property
    def has_places(self) -> bool:
        return any(r[4] == OrgKind.TOWNSHIP.value for r in self.rows)


def read_geography(session: Session) -> Geography:
    """The organisation as the engine needs it, on every intake request, which is what lets an import apply
    everywhere at once. A province holds tens of thousands of units: fetching and hashing them per request cost
    ~190 ms, so one aggregate row (count, highest id, sum of ORM revisions, total name lengths) stamps the table
    and the rows are read again only when the stamp changes. The stamp is per database content, not per process,
    so every instance agrees; an edit outside the ORM that keeps all five figures would go unseen until restart.
    A process trusts the stamp it read for STAMP_TTL_SECONDS (the aggregate scans the table), except that its own
    committed changes to units are seen at once: another instance's import applies here within that second."""
    stamp = _stamp(session)
    with _cache_lock:
        cached = _cache.get(stamp)
    if cached is not None:
        return cached
    geography = _read_rows(session)
    with _cache_lock:
        _cache[stamp] = geography
        while len(_cache) > 8:
            _cache.pop(next(iter(_cache)))
    return geography


_cache: dict[tuple[Any, ...], Geography] = {}
_cache_lock = threading.Lock()

STAMP_TTL_SECONDS = 1.0  # tests that switch databases under one URL set 0
_recent: dict[str, tuple[float, int, tuple[Any, ...]]] = {}  # database URL -> (read at, generation, stamp)
_generation = 0  # bumped when this process commits a change to org units
_ORG_WRITTEN = "xinfang.org_written"  # session.info flag: this transaction flushed a change to a unit


def _stamp(session: Session) -> tuple[Any, ...]:
    key = str(session.get_bind().url)
    now = time.monotonic()
    own_changes = bool(
        session.info.get(_ORG_WRITTEN)
    )  # this transaction's uncommitted units: read, keep private
    seen = _recent.get(key)
    if not own_changes and seen is not None and seen[1] == _generation and now - seen[0] < STAMP_TTL_SECONDS:
        return seen[2]
    generation = _generation
    stamp = tuple(
        session.execute(
            select(
                func.count(),
                func.coalesce(func.max(OrgUnit.id), 0),
                func.coalesce(func.sum(OrgUnit.revision), 0),
                func.coalesce(func.sum(func.length(OrgUnit.name)), 0),
                func.coalesce(func.sum(func.length(func.coalesce(OrgUnit.short_name, ""))), 0),
            ).where(OrgUnit.kind.in_(_KINDS))
        ).one()
    )
    if not own_changes:
        _recent[key] = (now, generation, stamp)
    return stamp


@event.listens_for(Session, "after_flush")
def _note_org_write(session: Session, _context: Any) -> None:
    if any(isinstance(obj, OrgUnit) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_ORG_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _org_committed(session: Session) -> None:
    global _generation
    if session.info.pop(_ORG_WRITTEN, False):
        _generation += 1


@event.listens_for(Session, "after_rollback")
def _org_rolled_back(session: Session) -> None:
    session.info.pop(_ORG_WRITTEN, None)


def _read_rows(session: Session) -> Geography:
    rows = tuple(
        tuple(r)
        for r in session.execute(
            select(
                OrgUnit.id,
                OrgUnit.code,
                OrgUnit.name,
                OrgUnit.short_name,
                OrgUnit.kind,
                OrgUnit.parent_id,
                OrgUnit.aliases,
            )
            .where(OrgUnit.kind.in_(_KINDS))
            .order_by(OrgUnit.code)
        )
    )
    canonical = json.dumps([r[1:] for r in rows], ensure_ascii=False, separators=(",", ":"), default=str)
    return Geography(rows=rows, fingerprint=hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24])


@lru_cache(maxsize=1)
def national_names() -> dict[str, str]:
    """{2/4/6-digit division code: name} from the shipped national division list."""
    names: dict[str, str] = {}
    for line in data_path("geo", "divisions_cn.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")[:2]
            names[code] = name
    return names


def county_code(geography: Geography) -> str | None:
    """The 6-digit county code the townships share (the most common prefix, should a stray row disagree)."""
    prefixes = Counter(r[1][:6] for r in geography.rows if r[4] == OrgKind.TOWNSHIP.value)
    return prefixes.most_common(1)[0][0] if prefixes else None


def county_data(geography: Geography) -> dict[str, Any] | None:
    """The gazetteer's county input built from the database, or None when it holds no township."""
    code = county_code(geography)
    if code is None:
        return None
    names = national_names()
    townships: dict[int, dict[str, Any]] = {}
    for r in geography.rows:
        if r[4] == OrgKind.TOWNSHIP.value:
            townships[r[0]] = {"code": r[1], "name": r[2], "aliases": list(r[6] or []), "villages": []}
    for r in geography.rows:
        if r[4] == OrgKind.VILLAGE.value and r[5] in townships:
            townships[r[5]]["villages"].append({"code": r[1], "name": r[2]})
    ordered = sorted(townships.values(), key=lambda t: t["code"])
    for town in ordered:
        town["villages"].sort(key=lambda v: v["code"])
    return {
        "province": {"code": code[:2], "name": names.get(code[:2], "")},
        "city": {"code": code[:4], "name": names.get(code[:4], "")},
        "county": {"code": code, "name": _county_unit_name(geography, code) or names.get(code, "")},
        "townships": ordered,
    }


def departments(geography: Geography) -> list[dict[str, Any]]:
    """The bureau and departments as the router's department list ({code, name, kind, short})."""
    return [
        {"code": r[1], "name": r[2], "kind": r[4], "short": r[3]}
        for r in geography.rows
        if r[4] in (OrgKind.BUREAU.value, OrgKind.DEPARTMENT.value)
    ]


def county_name(session: Session) -> str | None:
    """The county's name for reports: the imported county unit's (else the national list's) name, or None when the
    database holds no township (callers then fall back to the demo county's name)."""
    geography = read_geography(session)
    code = county_code(geography)
    if code is None:
        return None
    # A county imported before counties were kept as units is named by its code until it is imported again.
    return _county_unit_name(geography, code) or national_names().get(code) or code


def _county_unit_name(geography: Geography, code: str) -> str | None:
    return next((r[2] for r in geography.rows if r[4] == OrgKind.COUNTY.value and r[1] == code), None)
