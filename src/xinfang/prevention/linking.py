"""Linking a petition to the ledger entry it grew out of, so the county sees where early resolution failed.

Rules (documented policy, the issue leaves the thresholds open):
- Candidates: ledger entries screened on or before the day the petition was received and at most
  `LOOKBACK_DAYS` earlier. Where the petition's township is known, only entries of that township: a dispute in
  another township is another dispute. A petition without a place is compared with recent entries by matter only.
- Same parties: the same place (the same village when both are village-level, else the same township) and at least
  one party name equal to a petitioner's name.
- Same matter: the character 3-gram overlap coefficient |E ∩ P| / min(|E|, |P|) of the entry's title + summary and
  the petition's title + body reaches `MATTER_THRESHOLD`, with at least `MIN_SHARED` shared 3-grams (text.similarity's
  shingles: normalised, punctuation-free). The overlap coefficient, not Jaccard, because a ledger line is much
  shorter than the petition that retells it.
A link is kept once per (entry, petition), with its kind (parties / matter / both); the petition's history records it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.events import add_event
from xinfang.cases.models import Petition
from xinfang.clock import local_date
from xinfang.prevention.models import LedgerEntry, LedgerLink
from xinfang.security import audit
from xinfang.security.actors import SYSTEM
from xinfang.text.similarity import shingles

LOOKBACK_DAYS = 730
MATTER_THRESHOLD = 0.5
MIN_SHARED = 8
MAX_UNPLACED_CANDIDATES = 500
VILLAGE_LEN = 12


def same_place(entry_code: str | None, petition_code: str | None) -> bool:
    if not entry_code or not petition_code:
        return False
    if len(entry_code) >= VILLAGE_LEN and len(petition_code) >= VILLAGE_LEN:
        return entry_code[:VILLAGE_LEN] == petition_code[:VILLAGE_LEN]
    return entry_code[:9] == petition_code[:9]


def matter_similarity(entry_text: str, petition_text: str) -> float:
    a, b = shingles(entry_text), shingles(petition_text)
    if not a or not b:
        return 0.0
    shared = len(a & b)
    if shared < MIN_SHARED:
        return 0.0
    return shared / min(len(a), len(b))


def match(entry: LedgerEntry, petition: Petition) -> tuple[str, float] | None:
    """(kind, similarity) when the petition concerns the entry's dispute, else None."""
    names = {p.name.strip() for p in petition.petitioners if p.name}
    parties = same_place(entry.division_code, petition.division_code) and bool(
        names & set(entry.parties or ())
    )
    similarity = matter_similarity(f"{entry.title}\n{entry.summary}", f"{petition.title}\n{petition.body}")
    matter = similarity >= MATTER_THRESHOLD
    if parties and matter:
        return "both", similarity
    if parties:
        return "parties", similarity
    if matter:
        return "matter", similarity
    return None


def _candidates(session: Session, petition: Petition, received_on: date) -> list[LedgerEntry]:
    q = select(LedgerEntry).where(
        LedgerEntry.screened_on <= received_on,
        LedgerEntry.screened_on >= received_on - timedelta(days=LOOKBACK_DAYS),
    )
    if petition.township_code:
        q = q.where(LedgerEntry.township_code == petition.township_code)
    else:
        q = q.order_by(LedgerEntry.screened_on.desc()).limit(MAX_UNPLACED_CANDIDATES)
    return list(session.execute(q).scalars())


def link_petition(session: Session, *, petition: Petition, now: datetime) -> list[LedgerLink]:
    """Link one petition to every ledger entry it matches (existing links are kept, not duplicated)."""
    received_on = local_date(petition.received_at)
    known = set(
        session.execute(select(LedgerLink.entry_id).where(LedgerLink.petition_id == petition.id)).scalars()
    )
    links: list[LedgerLink] = []
    for entry in _candidates(session, petition, received_on):
        if entry.id in known or entry.petition_id == petition.id:  # a grid report registered as this petition
            continue
        found = match(entry, petition)
        if found is None:
            continue
        kind, similarity = found
        link = LedgerLink(
            entry=entry, petition_id=petition.id, kind=kind, similarity=round(similarity, 3), linked_at=now
        )
        session.add(link)
        links.append(link)
        add_event(
            session,
            petition=petition,
            kind="ledger_linked",
            actor=SYSTEM,
            at=now,
            summary=f"关联矛盾纠纷排查台账:{entry.title[:60]}",
            details={"ledger_entry_id": entry.id, "link_kind": kind, "similarity": round(similarity, 3)},
        )
        audit.record(
            session,
            actor=SYSTEM,
            action="prevention.ledger.link",
            at=now,
            object_type="petition",
            object_id=petition.id,
            details={"ledger_entry_id": entry.id, "kind": kind},
        )
    if links:
        session.flush()
    return links


def on_registered(session: Session, petition: Petition, now: datetime) -> None:
    """The intake hook (IntakeContext.on_registered, composed in runtime.py)."""
    link_petition(session, petition=petition, now=now)


def relink(session: Session, *, now: datetime, since: date | None = None) -> dict[str, int]:
    """Backfill: link petitions received since `since` (default: the lookback window) to ledger entries recorded
    after those petitions were registered (e.g. a township's sheet imported late). Idempotent."""
    start = since or (local_date(now) - timedelta(days=LOOKBACK_DAYS))
    townships = set(session.execute(select(LedgerEntry.township_code).distinct()).scalars())
    q = select(Petition).where(Petition.received_at >= _start_of(start))
    checked = linked = 0
    for petition in session.execute(q).scalars():
        if petition.township_code is not None and petition.township_code not in townships:
            continue
        checked += 1
        linked += len(link_petition(session, petition=petition, now=now))
    return {"checked": checked, "linked": linked}


def _start_of(day: date) -> Any:
    from xinfang.clock import CHINA_TZ

    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def failures(
    session: Session, *, actor: Any, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """Ledger entries that later arrived as petitions (early resolution failed), with counts per township."""
    from xinfang.org.models import OrgUnit
    from xinfang.prevention.ledger import STATUSES, scope_entries
    from xinfang.security.permissions import require

    require(actor, "prevention.read")
    q: Any = scope_entries(
        select(LedgerLink, LedgerEntry, Petition)  # type: ignore[arg-type]
        .join(LedgerEntry, LedgerLink.entry_id == LedgerEntry.id)
        .join(Petition, LedgerLink.petition_id == Petition.id),
        actor,
    )
    if start:
        q = q.where(Petition.received_at >= _start_of(start))
    if end:
        q = q.where(Petition.received_at < _start_of(end + timedelta(days=1)))
    names = dict(session.execute(select(OrgUnit.code, OrgUnit.name)).all())
    items: list[dict[str, Any]] = []
    by_township: dict[str, dict[str, Any]] = {}
    for link, entry, petition in session.execute(q.order_by(Petition.received_at.desc())).all():
        town = entry.township_code or ""
        items.append(
            {
                "entry_id": entry.id,
                "entry_title": entry.title,
                "township_code": town,
                "township": names.get(town, town),
                "risk_level": entry.risk_level,
                "screened_on": entry.screened_on,
                "due_on": entry.due_on,
                "entry_status": STATUSES.get(entry.status, entry.status),
                "petition_id": petition.id,
                "petition_number": petition.number,
                "received_on": local_date(petition.received_at),
                "days_after_screening": (local_date(petition.received_at) - entry.screened_on).days,
                "link_kind": link.kind,
            }
        )
        row = by_township.setdefault(
            town, {"township_code": town, "township": names.get(town, town), "petitions": 0, "entries": set()}
        )
        row["petitions"] += 1
        row["entries"].add(entry.id)
    townships = sorted(
        ({**r, "entries": len(r["entries"])} for r in by_township.values()), key=lambda r: -r["petitions"]
    )
    return {"items": items, "by_township": townships, "total": len(items)}
