"""Repeat detection at intake: link a new petition to earlier ones by the same person and/or about the same matter.

Same person: an equal blind index of ID number or phone (no decryption, no plaintext), or the same name in the
same village. Same matter: near-duplicate text, found through MinHash LSH band keys stored per petition
(`petition_lsh_bands`), so that candidates come from one indexed query however long the history is, and then
verified by the estimated Jaccard similarity of the signatures (recomputed from the few candidates' texts).
Stored texts are redacted (numbers masked) before this runs; that changes a few characters, not the similarity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import exists, func, or_, select, union
from sqlalchemy.orm import Session, load_only

from xinfang.cases.events import add_event
from xinfang.cases.models import Event, Petition, Petitioner
from xinfang.cases.service import get_petition
from xinfang.dispatch.models import PetitionBand, PetitionLink
from xinfang.security import audit
from xinfang.security.actors import SYSTEM, Actor
from xinfang.security.permissions import may_see_petition
from xinfang.text.similarity import BANDS, NUM_PERM, MinHasher, estimate, shingles

MATTER_THRESHOLD = 0.5  # estimated Jaccard of character 3-grams from which two texts are "the same matter"
MAX_CANDIDATES = (
    40  # candidates verified per petition (most shared bands / most recent first): a mass event with
)
# hundreds of identical calls must not make each new call compare itself with all of them
MAX_LINKS = 20  # links kept per new petition, most similar first
NAME_VILLAGE_LIMIT = (
    200  # most recent same-name, same-village petitioners considered (weak evidence, see below)
)
VILLAGE_CODE_LENGTH = 12
ROWS = NUM_PERM // BANDS

REASON_LABELS = {
    "same_id_number": "身份证号相同",
    "same_phone": "联系电话相同",
    "same_name_village": "同村同名",
    "similar_text": "内容相似",
    "same_place": "事发地相同",
}


@dataclass
class Link:
    """One earlier petition the new one repeats, with why; reasons carry codes and labels, never personal data."""

    earlier_id: int
    earlier_number: str | None
    kind: str
    similarity: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def hasher() -> MinHasher:
    """Seeded, so signatures (and band keys) are the same in every process and every release of this module."""
    return MinHasher(num_perm=NUM_PERM)


@lru_cache(maxsize=4096)
def text_signature(text: str) -> np.ndarray:
    """The MinHash signature of a text, remembered: in a mass event the same earlier petitions are the candidates
    of every new call, and hashing them again each time was most of the enrichment's work. A pure function of
    the text, so the cache cannot differ in meaning between processes. Callers must not modify the array."""
    return hasher().signature(text)


def petition_text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def band_keys(signature: np.ndarray) -> list[str]:
    """The LSH band keys of a signature, cut like SimilarityIndex._keys (BANDS bands of ROWS values each).

    Each band's bytes are hashed with its band number into 64 bits: a fixed-width indexed string, and equal
    rows in different bands never meet. A rare digest collision only adds a candidate that verification drops.
    """
    return [
        hashlib.blake2b(
            bytes([i]) + signature[i * ROWS : (i + 1) * ROWS].tobytes(), digest_size=8
        ).hexdigest()
        for i in range(BANDS)
    ]


def index_petition(session: Session, *, petition: Petition) -> np.ndarray | None:
    """Store the petition's band keys; returns its signature (None for a text without any characters)."""
    text = petition_text(petition.title, petition.body)
    if not shingles(text):
        return None
    signature = text_signature(text)
    session.add_all(
        PetitionBand(petition_id=petition.id, band=i, band_key=key)
        for i, key in enumerate(band_keys(signature))
    )
    return signature


def _matter_candidates(session: Session, *, petition_id: int, keys: list[str]) -> list[int]:
    """Earlier petitions sharing at least one band key: one indexed query."""
    shared = func.count().label("shared")
    q = (
        select(PetitionBand.petition_id, shared)
        .where(PetitionBand.band_key.in_(keys), PetitionBand.petition_id != petition_id)
        .group_by(PetitionBand.petition_id)
        .order_by(shared.desc(), PetitionBand.petition_id.desc())
        .limit(MAX_CANDIDATES)
    )
    return [pid for pid, _n in session.execute(q)]


def _person_matches(session: Session, *, petition: Petition, among: Any = None) -> dict[int, set[str]]:
    """Other petition id -> reason codes, from the petitioners' blind indexes and name + village; `among`
    restricts the other petitions (a condition on Petition, tested on the few matches only).

    Each kind of evidence is its own indexed lookup (a UNION): written as one OR, PostgreSQL scanned every
    petitioner of a 10-million-petition database per intake (3.6 s). Same name in the same village is the weakest
    evidence and, in a mass event, the commonest: only its most recent NAME_VILLAGE_LIMIT petitioners are taken."""
    people = petition.petitioners
    ids = {p.id_number_bidx for p in people if p.id_number_bidx}
    phones = {p.phone_bidx for p in people if p.phone_bidx}
    names = {p.name for p in people}
    village = petition.division_code if len(petition.division_code or "") == VILLAGE_CODE_LENGTH else None
    arms: list[Any] = []
    if ids:
        arms.append(select(Petitioner.id).where(Petitioner.id_number_bidx.in_(ids)))
    if phones:
        arms.append(select(Petitioner.id).where(Petitioner.phone_bidx.in_(phones)))
    if village and names:
        same_name = (
            select(Petitioner.id)
            .join(Petition, Petition.id == Petitioner.petition_id)
            .where(Petition.division_code == village, Petitioner.name.in_(names))
            .order_by(Petitioner.petition_id.desc())
            .limit(NAME_VILLAGE_LIMIT)
            .subquery()
        )
        arms.append(select(same_name.c[0]))
    if not arms:
        return {}
    matched = union(*arms).subquery() if len(arms) > 1 else arms[0].subquery()
    rows = session.execute(
        select(
            Petitioner.petition_id,
            Petitioner.id_number_bidx,
            Petitioner.phone_bidx,
            Petitioner.name,
            Petition.division_code,
        )
        .join(Petition, Petition.id == Petitioner.petition_id)
        .where(
            Petitioner.id.in_(select(matched.c[0])),
            Petitioner.petition_id != petition.id,
            *([] if among is None else [among]),
        )
        .order_by(Petitioner.petition_id.desc())
        .limit(MAX_CANDIDATES)
    )
    found: dict[int, set[str]] = {}
    for pid, id_bidx, phone_bidx, name, division in rows:
        reasons = found.setdefault(pid, set())
        if id_bidx and id_bidx in ids:
            reasons.add("same_id_number")
        if phone_bidx and phone_bidx in phones:
            reasons.add("same_phone")
        if village and division == village and name in names:
            reasons.add("same_name_village")
    return found


def _reasons(codes: set[str], similarity: float) -> list[dict[str, Any]]:
    order = list(REASON_LABELS)
    out = []
    for code in sorted(codes, key=order.index):
        label = REASON_LABELS[code]
        if code == "similar_text":
            label = f"{label}(相似度 {similarity:.0%})"
        out.append({"code": code, "label": label})
    return out


def _build_links(
    petition: Petition, signature: np.ndarray | None, earlier: list[Petition], people: dict[int, set[str]]
) -> list[Link]:
    links = []
    for other in earlier:
        other_text = petition_text(other.title, other.body)
        sim = estimate(signature, text_signature(other_text)) if signature is not None else 0.0
        codes = set(people.get(other.id, set()))
        same_matter = sim >= MATTER_THRESHOLD
        if same_matter:
            codes.add("similar_text")
        if not codes:
            continue
        if petition.division_code and other.division_code == petition.division_code:
            codes.add("same_place")
        same_person = other.id in people
        kind = "both" if same_person and same_matter else ("same_person" if same_person else "same_matter")
        links.append(Link(other.id, other.number, kind, round(sim, 4), _reasons(codes, sim)))
    links.sort(key=lambda link: (-link.similarity, -link.earlier_id))
    return links[:MAX_LINKS]


def link_repeats(session: Session, *, petition: Petition, now: datetime) -> list[Link]:
    """Index the new petition and link it to the others it repeats; writes links, an event and an audit entry.

    Runs in the enrichment job after intake, as the system: it is automatic, not a choice. Jobs may run out of
    order, so a candidate can be a *later* petition already indexed: that link is stored the other way round (the
    later one repeats this one), on the later petition. Returns the links from this petition to earlier ones.
    """
    signature = index_petition(session, petition=petition)
    people = _person_matches(session, petition=petition)
    matter = (
        _matter_candidates(session, petition_id=petition.id, keys=band_keys(signature))
        if signature is not None
        else []
    )
    ids = set(people) | set(matter)
    if not ids:
        return []
    columns = load_only(
        Petition.id,
        Petition.number,
        Petition.title,
        Petition.body,
        Petition.division_code,
        Petition.status,
        Petition.enriched_at,
    )
    earlier = list(session.execute(select(Petition).where(Petition.id.in_(ids)).options(columns)).scalars())
    links = _build_links(petition, signature, earlier, people)
    linked = _linked_pairs(session, petition_id=petition.id)
    backward = [
        link
        for link in links
        if link.earlier_id < petition.id and (petition.id, link.earlier_id) not in linked
    ]
    if backward:
        _store(session, petition=petition, links=backward, now=now)
    by_id = {p.id: p for p in earlier}
    for link in links:
        later = by_id[link.earlier_id]
        # A later petition not yet enriched will find this one itself when its own job runs.
        if later.id > petition.id and later.enriched_at is not None and (later.id, petition.id) not in linked:
            mirrored = Link(petition.id, petition.number, link.kind, link.similarity, link.reasons)
            _store(session, petition=later, links=[mirrored], now=now)
    return backward


def _linked_pairs(session: Session, *, petition_id: int) -> set[tuple[int, int]]:
    """(later, earlier) pairs already linked in either direction: a person link made from the other side first."""
    rows = session.execute(
        select(PetitionLink.petition_id, PetitionLink.earlier_id).where(
            or_(PetitionLink.petition_id == petition_id, PetitionLink.earlier_id == petition_id)
        )
    )
    return {(a, b) for a, b in rows}


def find_candidates(session: Session, *, petition: Petition) -> list[Link]:
    """What `link_repeats` would link, without writing anything: for a draft at the registration desk.

    `petition` may be transient (never added to the session, id None), with petitioners carrying blind indexes.
    """
    text = petition_text(petition.title, petition.body)
    signature = hasher().signature(text) if shingles(text) else None
    people = _person_matches(session, petition=petition)
    matter = (
        _matter_candidates(session, petition_id=petition.id or -1, keys=band_keys(signature))
        if signature is not None
        else []
    )
    ids = set(people) | set(matter)
    if not ids:
        return []
    columns = load_only(
        Petition.id, Petition.number, Petition.title, Petition.body, Petition.division_code, Petition.status
    )
    earlier = list(session.execute(select(Petition).where(Petition.id.in_(ids)).options(columns)).scalars())
    return _build_links(petition, signature, earlier, people)


def _store(session: Session, *, petition: Petition, links: list[Link], now: datetime) -> None:
    session.add_all(
        PetitionLink(
            petition_id=petition.id,
            earlier_id=link.earlier_id,
            kind=link.kind,
            similarity=link.similarity,
            reasons=link.reasons,
            created_at=now,
        )
        for link in links
    )
    summary = [
        {
            "earlier_id": lk.earlier_id,
            "number": lk.earlier_number,
            "kind": lk.kind,
            "similarity": lk.similarity,
        }
        for lk in links
    ]
    add_event(
        session,
        petition=petition,
        kind="repeat_linked",
        actor=SYSTEM,
        at=now,
        summary=f"疑似重复信访:关联此前信访 {len(links)} 件",
        details={"links": summary},
    )
    audit.record(
        session,
        actor=SYSTEM,
        action="petition.repeats_link",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"links": [{"earlier_id": lk.earlier_id, "kind": lk.kind} for lk in links]},
    )


def recognise_final_repeat(session: Session, *, petition: Petition, now: datetime) -> int | None:
    """三级终结: the same person raising the same matter again after 复核 is not accepted again. The system flags it
    (the clerk can lift the flag, a human judgement on "same facts and reasons"); the procedure then allows only
    a refusal with the 不再受理告知书.

    Runs inside intake's transaction, before routing (a flagged petition must not be forwarded automatically), so
    it looks only at final matters: the new petition's people among re-reviewed petitions (one indexed query that
    almost always returns nothing), then the text similarity of those few. The general repeat linking, which may
    compare a mass event's hundred near-identical calls, runs later in the enrichment job."""
    # The person's matches first (bounded indexed lookups), then which of them are final: a province holds hundreds
    # of thousands of re-reviewed petitions, too many to start from.
    final = or_(
        Petition.status == "recheck_replied",
        exists().where(Event.petition_id == Petition.id, Event.kind == "recheck_reply"),
    )
    # Other petitions only: what this transaction has pending (clocks, events) need not be flushed to ask.
    with session.no_autoflush:
        people = _person_matches(session, petition=petition, among=final)
    if not people:
        return None
    signature = hasher().signature(petition_text(petition.title, petition.body))
    earlier = session.execute(
        select(Petition).where(Petition.id.in_(people)).order_by(Petition.id.desc())
    ).scalars()
    for other in earlier:
        similarity = estimate(signature, text_signature(petition_text(other.title, other.body)))
        if similarity < MATTER_THRESHOLD:
            continue
        petition.repeats_final_id = other.id
        add_event(
            session,
            petition=petition,
            kind="repeat_of_final",
            actor=SYSTEM,
            at=now,
            summary=f"与已复核终结的信访件 {other.number} 事实和理由相同,依法不再受理",
            details={"final_id": other.id, "similarity": round(similarity, 4)},
        )
        return other.id
    return None


def is_final(petition: Petition) -> bool:
    """Final after 复核: re-reviewed (its status, or an earlier re-review reply if it was concluded since)."""
    return petition.status == "recheck_replied" or any(e.kind == "recheck_reply" for e in petition.events)


@dataclass
class LinkView:
    """A link as one reader sees it: the other petition (earlier or later) and the evidence."""

    link: PetitionLink
    other: Petition
    direction: str  # earlier: this petition repeats it; later: it repeats this petition


def list_links(session: Session, *, actor: Actor, petition_id: int) -> list[LinkView]:
    """Links of a visible petition in both directions, leaving out petitions the actor may not see."""
    petition = get_petition(session, actor=actor, petition_id=petition_id)
    rows = session.execute(
        select(PetitionLink)
        .where(or_(PetitionLink.petition_id == petition.id, PetitionLink.earlier_id == petition.id))
        .order_by(PetitionLink.similarity.desc(), PetitionLink.id)
    ).scalars()
    views = []
    for link in rows:
        later = link.petition_id != petition.id
        other = session.get(Petition, link.petition_id if later else link.earlier_id)
        if other is not None and may_see_petition(actor, other):
            views.append(LinkView(link, other, "later" if later else "earlier"))
    return views
