"""Scanned letters (来信扫描件): the background job `ocr.letter` that turns an uploaded scan into petition text.

Flow: a clerk uploads a scan to a petition of channel `letter`; `enqueue_scan` adds an `ocr.letter` job in the same
transaction (only for images and PDFs). The worker (`xinfang worker`) runs `handle`:

1. reads the attachment's bytes (short transaction), then OCRs them with no transaction open (seconds per page);
2. in a second short transaction: adds a petition event `ocr_text` (summary with the number of characters; details:
   the recognised text with ID and phone numbers redacted, its length, the mean confidence), and audits
   `petition.ocr` with the length only (never the text);
3. if the petition's body is empty or a placeholder such as "（扫描件，待识别）", fills the body with the recognised
   text (ID/phone numbers redacted; the original kept encrypted like at registration) and re-runs the analysis
   (category, place, kind of matter filled where still empty; `petition.analysis` replaced). Auto-dispatch is not
   re-run: the suggestion shows on the petition and a person dispatches it.

The scan itself stays as the attachment. Idempotent: a second run for the same attachment (at-least-once delivery)
finds its `ocr_text` event and does nothing. Text that yields no characters records the event with length 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xinfang.cases.attachments import read_stored
from xinfang.cases.events import add_event
from xinfang.cases.models import Attachment, Event, Petition
from xinfang.clock import local_date
from xinfang.errors import IntegrationError, InvalidInput
from xinfang.intake import ocr
from xinfang.security import audit
from xinfang.security.actors import SYSTEM
from xinfang.security.crypto import KeyRing
from xinfang.security.redaction import redact
from xinfang.store.db import session_scope
from xinfang.store.jobs import ClaimedJob, JobRegistry, enqueue

OCR_JOB = "ocr.letter"
EVENT_KIND = "ocr_text"
LETTER_CHANNEL = "letter"
# A body made only of these (after trimming spaces and brackets) is a placeholder that the OCR text replaces.
PLACEHOLDERS = frozenset(
    {"", "扫描件", "扫描件待识别", "扫描件,待识别", "扫描件，待识别", "待识别", "见附件", "详见附件"}
)
_BRACKETS = re.compile(r"[\s()（）\[\]【】。.]")

Analyser = Callable[..., dict[str, Any] | None]


def is_placeholder(body: str | None) -> bool:
    return _BRACKETS.sub("", body or "") in PLACEHOLDERS


def enqueue_scan(session: Session, *, petition: Petition, attachment: Attachment, now: datetime) -> bool:
    """In the upload's transaction: queue the OCR of a letter's scan. False (nothing queued) for other cases."""
    if petition.channel != LETTER_CHANNEL or not ocr.is_ocr_type(attachment.content_type):
        return False
    enqueue(
        session,
        kind=OCR_JOB,
        payload={"petition_id": petition.id, "attachment_id": attachment.id},
        now=now,
        max_attempts=3,
    )
    return True


def register(
    registry: JobRegistry,
    *,
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    attachments_dir: Path,
    analyser_for: Callable[[Session], Analyser | None],
    now: Callable[[], datetime],
) -> None:
    def handle(job: ClaimedJob) -> None:
        attachment_id = int(job.payload["attachment_id"])
        with session_scope(sessions) as session:
            att = session.get(Attachment, attachment_id)
            if att is None:
                raise IntegrationError("附件不存在", code="ocr.attachment_missing", retryable=False)
            if _already_done(session, att):
                return
            digest, filename = att.sha256, att.filename
        data = read_stored(attachments_dir, digest)
        try:
            result = ocr.ocr_image(data, filename)
        except InvalidInput as exc:  # not an image after all, unreadable: retrying will not help
            raise IntegrationError(exc.message, code=exc.code, retryable=False) from exc
        with session_scope(sessions) as session:
            att = session.get(Attachment, attachment_id)
            if att is None or _already_done(session, att):
                return
            apply_result(
                session,
                attachment=att,
                result=result,
                keyring=keyring,
                analyser=analyser_for(session),
                now=now(),
            )

    registry.register(OCR_JOB, handle)


def _already_done(session: Session, att: Attachment) -> bool:
    events = session.execute(
        select(Event.details).where(Event.petition_id == att.petition_id, Event.kind == EVENT_KIND)
    ).scalars()
    return any((d or {}).get("attachment_id") == att.id for d in events)


def apply_result(
    session: Session,
    *,
    attachment: Attachment,
    result: ocr.OcrResult,
    keyring: KeyRing,
    analyser: Analyser | None,
    now: datetime,
) -> bool:
    """Record the recognised text on the petition; fill a placeholder body and re-analyse. True if body filled."""
    petition = attachment.petition
    text = result.text.strip()
    shown = redact(text)
    filled = bool(text) and is_placeholder(petition.body)
    add_event(
        session,
        petition=petition,
        kind=EVENT_KIND,
        actor=SYSTEM,
        at=now,
        summary=f"扫描件识别 {len(text)} 字",
        details={
            "attachment_id": attachment.id,
            "chars": len(text),
            "confidence": result.mean_confidence,
            "pages": result.pages,
            "body_filled": filled,
            "text": shown.text,
        },
    )
    if filled:
        _fill_body(petition, text=text, redacted=shown.text, keyring=keyring)
        if analyser is not None:
            analysis = analyser(petition.title, text, reference_date=local_date(petition.received_at))
            if analysis is not None:
                _apply_analysis(petition, analysis)
    audit.record(
        session,
        actor=SYSTEM,
        action="petition.ocr",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"attachment_id": attachment.id, "chars": len(text), "body_filled": filled},
    )
    return filled


def _fill_body(petition: Petition, *, text: str, redacted: str, keyring: KeyRing) -> None:
    """As at registration: plain text without ID/phone numbers; the full text encrypted when something was cut."""
    if redacted != text or petition.original_text_enc is not None:
        title = petition.title
        if petition.original_text_enc is not None:
            title = json.loads(keyring.decrypt(petition.original_text_enc))[0]
        petition.original_text_enc = keyring.encrypt(json.dumps([title, text], ensure_ascii=False))
    petition.body = redacted


def _apply_analysis(petition: Petition, analysis: dict[str, Any]) -> None:
    """The gaps registration would have filled from the analysis (a clerk's choices are kept)."""
    petition.analysis = analysis
    if petition.category is None:
        petition.category = (analysis.get("category") or {}).get("label")
    if petition.division_code is None:
        location = analysis.get("location") or {}
        petition.division_code = location.get("village_code") or location.get("township_code")
        code = petition.division_code
        petition.township_code = code[:9] if code and len(code) >= 9 else None
    if petition.matter_kind is None:
        petition.matter_kind = (analysis.get("matter_kind") or {}).get("kind")
