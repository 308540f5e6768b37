"""Hot matters in the database: assign each new petition to its matter at intake, list matters ranked by heat.

Incremental: a petition is scored only against the matters that share one of its strongest terms or entity keys
(one indexed query on hot_matter_terms) and were active in the last ACTIVE_DAYS; history is never re-clustered.
Cross-source linking: when a petition joins a matter that already holds a record from another source about the same
place within LINK_DAYS (a 12345 call, a grid report and a 110 record of one blocked road), a same_matter link is
written in the dispatch slice's petition_links, so the heat map's distinct counts collapse them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from xinfang.cases.models import Petition, Petitioner
from xinfang.dispatch.models import PetitionLink
from xinfang.hotspots import engine
from xinfang.hotspots.models import HotMatter, HotMatterMember, HotMatterTerm
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions

ACTIVE_DAYS = 180  # a matter silent longer than this is closed for new members
LINK_DAYS = 7
MAX_CANDIDATES = 30
MAX_CROSS_LINKS = 5
COLUMNS: tuple[tuple[str, str], ...] = (
    ("label", "事项"),
    ("key_terms", "关键词"),
    ("size", "件数"),
    ("distinct_petitioners", "信访人数"),
    ("places", "涉及地区"),
    ("sources", "来源"),
    ("first_at", "首次"),
    ("last_at", "最近"),
    ("trend", "趋势"),
    ("heat", "热度"),
)


def record_of(petition: Petition) -> engine.Record:
    person = None
    if petition.petitioners:
        p = petition.petitioners[0]
        person = p.id_number_bidx or p.phone_bidx
    return engine.Record(
        id=petition.id,
        title=petition.title,
        body=petition.body,
        at=petition.received_at,
        person=person,
        place=petition.division_code,
    ).prepare()


def _candidates(session: Session, *, record: engine.Record, now: datetime) -> list[HotMatter]:
    terms = [f"t:{t}" for t in engine.top_terms(record.vector, engine.QUERY_TERMS)]
    terms += [f"k:{k}"[:100] for k in record.keys]
    if not terms:
        return []
    shared = func.count().label("shared")
    ids = [
        mid
        for mid, _n in session.execute(
            select(HotMatterTerm.matter_id, shared)
            .join(HotMatter, HotMatter.id == HotMatterTerm.matter_id)
            .where(HotMatterTerm.term.in_(terms), HotMatter.last_at >= now - timedelta(days=ACTIVE_DAYS))
            .group_by(HotMatterTerm.matter_id)
            .order_by(shared.desc(), HotMatterTerm.matter_id.desc())
            .limit(MAX_CANDIDATES)
        )
    ]
    if not ids:
        return []
    return list(session.execute(select(HotMatter).where(HotMatter.id.in_(ids))).scalars())


def _engine_matter(row: HotMatter) -> engine.Matter:
    return engine.Matter(
        id=row.id,
        centroid=dict(row.centroid or {}),
        keys=Counter(row.keys or {}),
        size=row.size,
        label_title=row.label,
        label_score=row.label_score,
    )


def assign_petition(session: Session, *, petition: Petition, now: datetime) -> HotMatter | None:
    """Put a newly registered petition into its matter (or found one). Runs inside intake's transaction."""
    if session.get(HotMatterMember, petition.id) is not None:
        return None
    record = record_of(petition)
    if not record.vector:
        return None
    rows = _candidates(session, record=record, now=now)
    match = engine.score_candidates(record, [_engine_matter(r) for r in rows])
    at = petition.received_at
    if match is None:
        row = HotMatter(
            label=petition.title[:200],
            label_score=0.0,
            size=0,
            township_code=petition.township_code,
            category=petition.category,
            first_at=at,
            last_at=at,
            created_at=now,
        )
        session.add(row)
        session.flush()
        similarity = 1.0
        cross: list[int] = []
    else:
        row = next(r for r in rows if r.id == match[0].id)
        similarity = round(match[1], 4)
        cross = _cross_source_earlier(session, matter_id=row.id, petition=petition)
    matter = _engine_matter(row)
    old_terms = set(engine.top_terms(matter.centroid, engine.INDEX_TERMS)) if row.size else set()
    old_keys = set(matter.keys)
    matter.absorb(record)
    row.centroid = {t: round(w, 5) for t, w in matter.centroid.items()}
    row.keys = dict(matter.keys.most_common(20))
    row.size = matter.size
    row.label, row.label_score = matter.label_title[:200], matter.label_score
    row.key_terms = matter.key_terms
    row.first_at = min(row.first_at, at)
    row.last_at = max(row.last_at, at)
    session.add(
        HotMatterMember(petition_id=petition.id, matter_id=row.id, similarity=similarity, joined_at=now)
    )
    _reindex(
        session,
        row=row,
        old=_term_keys(old_terms, old_keys),
        new=_term_keys(set(engine.top_terms(matter.centroid, engine.INDEX_TERMS)), set(row.keys)),
    )
    for earlier_id in cross:
        session.add(
            PetitionLink(
                petition_id=petition.id,
                earlier_id=earlier_id,
                kind="same_matter",
                similarity=similarity,
                reasons=[
                    {"code": "same_hot_matter", "label": "同一热点事项(跨来源)"},
                    {"code": "same_place", "label": "事发地相同"},
                ],
                created_at=now,
            )
        )
    return row


def _term_keys(terms: set[str], keys: set[str]) -> set[str]:
    return {f"t:{t}" for t in terms} | {f"k:{k}"[:100] for k in keys}


def _reindex(session: Session, *, row: HotMatter, old: set[str], new: set[str]) -> None:
    gone = old - new
    if gone:
        session.execute(
            delete(HotMatterTerm).where(HotMatterTerm.matter_id == row.id, HotMatterTerm.term.in_(gone))
        )
    session.add_all(HotMatterTerm(matter_id=row.id, term=t) for t in new - old)


def _cross_source_earlier(session: Session, *, matter_id: int, petition: Petition) -> list[int]:
    """Members of the matter from another source, about the same township, within LINK_DAYS, not linked yet."""
    if not petition.township_code:
        return []
    window = petition.received_at - timedelta(days=LINK_DAYS)
    rows = session.execute(
        select(Petition.id)
        .join(HotMatterMember, HotMatterMember.petition_id == Petition.id)
        .where(
            HotMatterMember.matter_id == matter_id,
            Petition.source != petition.source,
            Petition.township_code == petition.township_code,
            Petition.received_at >= window,
            Petition.received_at <= petition.received_at,
            Petition.id != petition.id,
        )
        .order_by(Petition.received_at.desc())
        .limit(MAX_CROSS_LINKS)
    ).scalars()
    ids = list(rows)
    if not ids:
        return []
    existing = session.execute(
        select(PetitionLink).where(PetitionLink.petition_id == petition.id, PetitionLink.earlier_id.in_(ids))
    ).scalars()
    linked = set()
    for link in existing:
        linked.add(link.earlier_id)
        if link.kind == "same_person":  # the same person, and now known to be the same matter too
            link.kind = "both"
            link.reasons = [
                *(link.reasons or []),
                {"code": "same_hot_matter", "label": "同一热点事项(跨来源)"},
            ]
    return [i for i in ids if i not in linked]


def on_registered(session: Session, petition: Petition, now: datetime) -> None:
    """The intake hook: after repeat detection (which may already link the same matter), assign the hot matter."""
    session.flush()
    assign_petition(session, petition=petition, now=now)


def assign_unassigned(session: Session, *, now: datetime, limit: int | None = None) -> int:
    """Assign petitions registered without the hook (bulk loads, history imported before this slice), oldest first."""
    q = (
        select(Petition)
        .outerjoin(HotMatterMember, HotMatterMember.petition_id == Petition.id)
        .where(HotMatterMember.petition_id.is_(None))
        .order_by(Petition.received_at, Petition.id)
    )
    if limit:
        q = q.limit(limit)
    n = 0
    for petition in session.execute(q).scalars().all():
        if assign_petition(session, petition=petition, now=max(now, petition.received_at)) is not None:
            n += 1
            session.flush()
    return n


@dataclass(frozen=True)
class MatterQuery:
    start_at: datetime
    end_at: datetime
    min_size: int = 2
    limit: int = 50


def list_hot_matters(
    session: Session, *, actor: Actor, query: MatterQuery, now: datetime
) -> list[dict[str, Any]]:
    """Matters with members received in the period (those the actor may see), ranked by heat as of `now`."""
    require(actor, "analytics.read")
    q: Any = (
        select(
            HotMatterMember.matter_id,
            Petition.id,
            Petition.received_at,
            Petition.division_code,
            Petition.source,
        )
        .join(Petition, Petition.id == HotMatterMember.petition_id)
        .where(Petition.received_at >= query.start_at, Petition.received_at < query.end_at)
    )
    q = scope_petitions(q, actor)
    members: dict[int, list[tuple[int, datetime, str | None, str]]] = defaultdict(list)
    for mid, pid, at, place, source in session.execute(q):
        members[mid].append((pid, at, place, source))
    members = defaultdict(list, {m: v for m, v in members.items() if len(v) >= query.min_size})
    if not members:
        return []
    persons = _persons(session, [pid for v in members.values() for pid, *_ in v])
    matters = {m.id: m for m in session.execute(select(HotMatter).where(HotMatter.id.in_(members))).scalars()}
    names = _place_names(session)
    out: list[dict[str, Any]] = []
    for mid, rows in members.items():
        matter = matters[mid]
        times = [at for _pid, at, _pl, _s in rows]
        people = {persons.get(pid) or f"p{pid}" for pid, *_ in rows}
        places = Counter(names.get(pl or "", pl) for _p, _a, pl, _s in rows if pl)
        out.append(
            {
                "id": mid,
                "label": matter.label,
                "key_terms": list(matter.key_terms or []),
                "size": len(rows),
                "total_size": matter.size,
                "distinct_petitioners": len(people),
                "places": [p for p, _ in places.most_common(5)],
                "sources": sorted({s for *_x, s in rows}),
                "first_at": min(times).isoformat(),
                "last_at": max(times).isoformat(),
                "trend": engine.trend(times, now),
                "heat": engine.heat(times, len(people), now),
                "ids": sorted(pid for pid, *_ in rows),
            }
        )
    out.sort(key=lambda m: (-m["heat"], -m["size"], m["id"]))
    return out[: query.limit]


def _persons(session: Session, petition_ids: list[int]) -> dict[int, str]:
    """petition id -> an opaque identity (blind index) of its first identified petitioner."""
    found: dict[int, str] = {}
    for i in range(0, len(petition_ids), 500):
        chunk = petition_ids[i : i + 500]
        for pid, id_bidx, phone_bidx in session.execute(
            select(Petitioner.petition_id, Petitioner.id_number_bidx, Petitioner.phone_bidx)
            .where(Petitioner.petition_id.in_(chunk))
            .order_by(Petitioner.id)
        ):
            key = id_bidx or phone_bidx
            if key and pid not in found:
                found[pid] = key
    return found


def _place_names(session: Session) -> dict[str, str]:
    from xinfang.org.models import OrgUnit

    return {
        c: n
        for c, n in session.execute(
            select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind.in_(("township", "village")))
        )
    }
