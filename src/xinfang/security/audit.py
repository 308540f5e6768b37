"""The append-only, hash-chained audit log of every change and every read of personal data.

Each entry's hash is SM3 over the previous hash and the entry's canonical JSON. Appending locks the single
`audit_head` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), so the chain has exactly one
tip however many app instances write. `verify` recomputes the chain and reports the first entry that does not match:
an edited, deleted or inserted row breaks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import select
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
    """Append one entry in the caller's transaction. Never put personal data in `details`."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    entry = AuditEntry(
        seq=head.seq + 1,
        at=at.replace(microsecond=(at.microsecond // 1000) * 1000),
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
        prev_hash=head.hash,
    )
    entry.hash = _digest(head.hash, _content(entry))
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    return entry


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
