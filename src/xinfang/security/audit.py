"""The append-only, hash-chained audit log of every change and every read of personal data.

Each entry's hash is SM3 over the previous hash and the entry's canonical JSON. Appending locks the single
`audit_head` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), so the chain has exactly one
tip however many app instances write; entries are appended when their transaction commits (see `record`). `verify` recomputes the chain and reports the first entry that does not match:
an edited, deleted or inserted row breaks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinfang.security.actors import Actor
from xinfang.security.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _digest(prev_hash: str, content: dict[str, Any]) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(prev_hash.encode("ascii"))
    h.update(json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return h.finalize().hex()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details or {},
    }


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    at: datetime,
    object_type: str | None = None,
    object_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. Never put personal data in `details`.

    The entry joins the chain when the transaction commits (`_append_pending`, a before-commit hook), not here.
    Why: appending locks the chain's single head row until the transaction ends. Taken here — in the middle of a
    registration, before repeat detection and routing — that lock would serialise every writer of every app
    instance for most of its transaction, and it would be taken *before* row locks the rest of the transaction
    needs (an earlier petition a new link points to, a petition being referred), while other transactions take
    those rows first and the head last: a deadlock. Taken at commit it is the last lock of every transaction and
    is held only for the commit itself. Entries recorded inside a savepoint that is rolled back are dropped with it.
    """
    entry = AuditEntry(
        at=at.replace(microsecond=(at.microsecond // 1000) * 1000),
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
    )
    marker = session.get_nested_transaction() or session.get_transaction()
    if marker is None:  # autobegin has not happened yet: begin, as the immediate append used to
        session.connection()
        marker = session.get_transaction()
    session.info.setdefault(_PENDING, []).append((marker, entry))
    return entry


_PENDING = "xinfang.audit_pending"  # session.info key: [(the transaction recorded in, the entry)]


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    """Chain the transaction's entries, in the order they were recorded, under the head's lock."""
    if session.in_nested_transaction():  # a savepoint is released: its entries wait for the real commit
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    head = _locked_head(session)
    for _marker, entry in pending:
        entry.seq, entry.prev_hash = head.seq + 1, head.hash
        entry.hash = _digest(head.hash, _content(entry))
        head.seq, head.hash = entry.seq, entry.hash
        session.add(entry)
    session.flush()


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: Any) -> None:
    """A rolled-back savepoint takes the entries recorded in it (or in savepoints inside it) along."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
        return

    def inside(marker: Any) -> bool:
        while marker is not None:
            if marker is previous_transaction:
                return True
            marker = marker.parent
        return False

    session.info[_PENDING] = [(m, e) for m, e in pending if not inside(m)]


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed entries were popped already)
        session.info.pop(_PENDING, None)


def _locked_head(session: Session) -> AuditHead:
    """The chain's tip, locked until the caller's transaction ends; created on the very first entry.

    Two instances writing the first entries of a new database at once both find no head: the loser of the INSERT
    race (unique violation, rolled back to the savepoint) then locks the winner's row and chains onto it.
    """
    transaction = session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:  # locked earlier in this transaction: still ours
        return held[1]
    head = _lock_head(session)
    session.info[_HELD] = (transaction, head)
    return head


_HELD = "xinfang.audit_head"  # session.info key: (the transaction that locked the head, the head)


def _lock_head(session: Session) -> AuditHead:
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.execute(query).scalar_one_or_none()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            head = AuditHead(id=1, seq=0, hash=GENESIS)
            session.add(head)
        return head
    except IntegrityError:
        return session.execute(query.execution_options(populate_existing=True)).scalar_one()


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; stream in batches so millions of rows need little memory."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).scalars()
        chunk = list(rows)
        if not chunk:
            break
        for entry in chunk:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, entry.seq, f"sequence gap: expected {expected_seq}")
            if entry.prev_hash != prev:
                return VerifyResult(False, checked, entry.seq, "previous-hash link broken")
            if _digest(prev, _content(entry)) != entry.hash:
                return VerifyResult(False, checked, entry.seq, "content does not match its hash")
            prev = entry.hash
            expected_seq += 1
            checked += 1
            last_id = entry.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(False, checked, checked + 1, "entries missing at the end of the chain")
    return VerifyResult(True, checked)
