"""Attachments: bytes kept once under their SHA-256 (content-addressed), with the type sniffed, never trusted.

Why sniff: a clerk's upload named `scan.pdf` may be anything; the stored content type comes from the file's magic
bytes, and anything not on the allow-list (executables, scripts, archives other than Office files) is refused.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from xinfang.cases.events import add_event
from xinfang.cases.models import Attachment, Petition
from xinfang.errors import InvalidInput, NotFound
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, require_petition_visible

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
OFFICE_ZIP = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# Every content type an attachment can be stored with (documented on the download route's OpenAPI).
STORED_TYPES: tuple[str, ...] = (
    *dict.fromkeys(ctype for _magic, ctype in SIGNATURES),
    *OFFICE_ZIP.values(),
    "text/plain",
)


def sniff_content_type(data: bytes, filename: str) -> str:
    for magic, ctype in SIGNATURES:
        if data.startswith(magic):
            return ctype
    suffix = Path(filename).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in OFFICE_ZIP:
        return OFFICE_ZIP[suffix]
    if suffix == ".txt":
        try:
            data.decode("utf-8")
            return "text/plain; charset=utf-8"
        except UnicodeDecodeError:
            pass
    raise InvalidInput(
        "不支持的附件类型(仅限 PDF、图片、Word/Excel 文档和文本)", code="attachment.type_refused"
    )


def store_bytes(root: Path, data: bytes) -> str:
    """Write once, atomically: a crash mid-write never leaves a truncated file under a valid name."""
    digest = hashlib.sha256(data).hexdigest()
    target = root / digest[:2] / digest
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return digest


def add_attachment(
    session: Session,
    *,
    actor: Actor,
    petition: Petition,
    data: bytes,
    filename: str,
    root: Path,
    max_bytes: int,
    now: datetime,
) -> Attachment:
    require(actor, "petition.create")
    require_petition_visible(actor, petition)
    if not data:
        raise InvalidInput("附件为空", code="attachment.empty")
    if len(data) > max_bytes:
        raise InvalidInput(f"附件超过大小上限({max_bytes // (1024 * 1024)} MB)", code="attachment.too_large")
    ctype = sniff_content_type(data, filename)
    digest = store_bytes(root, data)
    att = Attachment(
        petition=petition,
        sha256=digest,
        filename=Path(filename).name[:255] or "附件",
        content_type=ctype,
        size=len(data),
        created_at=now,
    )
    session.add(att)
    session.flush()
    add_event(
        session,
        petition=petition,
        kind="attachment_added",
        actor=actor,
        at=now,
        summary=f"上传附件 {att.filename}",
        details={"attachment_id": att.id, "sha256": digest},
    )
    audit.record(
        session,
        actor=actor,
        action="attachment.add",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"sha256": digest, "size": len(data)},
    )
    return att


def read_stored(root: Path, digest: str) -> bytes:
    return (root / digest[:2] / digest).read_bytes()


def open_attachment(
    session: Session, *, actor: Actor, attachment_id: int, root: Path
) -> tuple[Attachment, bytes]:
    att = session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("附件不存在", code="attachment.not_found")
    require(actor, "petition.read")
    require_petition_visible(actor, att.petition)
    return att, read_stored(root, att.sha256)
