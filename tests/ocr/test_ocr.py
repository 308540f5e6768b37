"""Offline OCR of scanned letters: recognition, refusal of non-images, and the `ocr.letter` background job."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.factories import petition_payload
from tests.ocr.conftest import LETTER_TEXT, needs_ocr
from xinfang.errors import InvalidInput
from xinfang.intake import letters, ocr
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]


def overlap(expected: str, got: str) -> float:
    """Share of the expected characters (with multiplicity, punctuation ignored) found in the recognised text."""
    keep = lambda s: Counter(c for c in s if "\u4e00" <= c <= "\u9fff")  # noqa: E731
    want, have = keep(expected), keep(got)
    return sum((want & have).values()) / sum(want.values())


@needs_ocr
def test_a_synthetic_letter_is_recognised_and_routes_to_the_labour_bureau(letter_png: bytes) -> None:
    from xinfang.routing.pipeline import DispatchPipeline

    result = ocr.ocr_image(letter_png, "letter.png")
    assert overlap(LETTER_TEXT, result.text) >= 0.8, result.mean_confidence
    assert 0.5 < result.mean_confidence <= 1.0
    assert len(result.lines) >= 3

    analysis = DispatchPipeline.load_default().analyse("来信", result.text)
    top = [d["code"] for d in analysis["departments"][:3]]
    assert "rsj" in top, top


@needs_ocr
def test_jpeg_and_pdf_scans_are_read(letter_png: bytes) -> None:
    from PIL import Image

    img = Image.open(io.BytesIO(letter_png))
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", quality=85)
    assert overlap(LETTER_TEXT, ocr.ocr_image(jpeg.getvalue()).text) >= 0.8
    pytest.importorskip("pypdfium2", reason="pypdfium2 not installed: PDF scans are refused")
    pdf = io.BytesIO()
    img.save(pdf, "PDF", resolution=150)
    result = ocr.ocr_image(pdf.getvalue(), "letter.pdf")
    assert result.pages == 1
    assert overlap(LETTER_TEXT, result.text) >= 0.8


def test_non_images_and_oversized_files_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        ocr.ocr_image("这不是图片".encode(), "letter.txt")
    assert err.value.code == "ocr.not_an_image"
    with pytest.raises(InvalidInput) as err:
        ocr.ocr_image(b"MZ\x90\x00" + b"\x00" * 100, "letter.png")
    assert err.value.code == "ocr.not_an_image"
    with pytest.raises(InvalidInput) as err:
        ocr.ocr_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * (ocr.MAX_BYTES + 1))
    assert err.value.code == "ocr.too_large"
    with pytest.raises(InvalidInput) as err:
        ocr.ocr_image(b"\x89PNG\r\n\x1a\n" + b"garbage")
    assert err.value.code == "ocr.unreadable"


def test_huge_images_are_downscaled() -> None:
    from PIL import Image

    assert max(ocr._bounded(Image.new("RGB", (8000, 6000), "white")).size) == ocr.MAX_SIDE


def test_placeholders() -> None:
    assert letters.is_placeholder("（扫描件，待识别）")
    assert letters.is_placeholder("  ")
    assert letters.is_placeholder("详见附件。")
    assert not letters.is_placeholder("老板拖欠工资")


def _letter(client: TestClient, auth: Auth, body: str) -> int:
    r = client.post(
        "/api/petitions",
        json=petition_payload(channel="letter", title="来信", body=body),
        headers=auth("clerk"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _upload(client: TestClient, auth: Auth, petition_id: int, data: bytes, name: str) -> None:
    r = client.post(
        f"/api/petitions/{petition_id}/attachments", files={"file": (name, data)}, headers=auth("clerk")
    )
    assert r.status_code in (200, 201), r.text


def _ocr_jobs(rt: Runtime) -> list[dict[str, object]]:
    from xinfang.store.jobs import Job

    with rt.session() as s:
        return [j.payload for j in s.execute(select(Job).where(Job.kind == letters.OCR_JOB)).scalars()]


def test_only_image_scans_of_letters_are_queued(
    client: TestClient, auth: Auth, seeded: Runtime, letter_png: bytes
) -> None:
    visit = client.post(
        "/api/petitions", json=petition_payload(channel="visit"), headers=auth("clerk")
    ).json()
    _upload(client, auth, visit["id"], letter_png, "scan.png")
    letter_id = _letter(client, auth, "（扫描件，待识别）")
    _upload(client, auth, letter_id, "说明".encode(), "note.txt")
    assert _ocr_jobs(seeded) == []
    _upload(client, auth, letter_id, letter_png, "scan.png")
    assert [j["petition_id"] for j in _ocr_jobs(seeded)] == [letter_id]


@needs_ocr
def test_the_worker_fills_a_placeholder_body_and_reanalyses(
    client: TestClient, auth: Auth, seeded: Runtime, letter_png: bytes
) -> None:
    from xinfang.cases.models import Event, Petition
    from xinfang.cli.jobs import make_worker
    from xinfang.runtime import load_default_analyser
    from xinfang.security.models import AuditEntry

    petition_id = _letter(client, auth, "（扫描件，待识别）")
    _upload(client, auth, petition_id, letter_png, "scan.png")
    seeded.analyser_override = load_default_analyser()  # the tests' settings turn routing off
    worker = make_worker(seeded)
    assert worker.run_until_idle() == 2  # the OCR, and the enrichment queued when the letter was registered
    assert worker.run_until_idle() == 0

    with seeded.session() as s:
        petition = s.get(Petition, petition_id)
        assert petition is not None
        events = s.execute(
            select(Event).where(Event.petition_id == petition_id, Event.kind == "ocr_text")
        ).scalars()
        (event,) = list(events)
        assert event.details["chars"] > 20 and event.details["body_filled"] is True
        assert overlap(LETTER_TEXT, petition.body) >= 0.8
        assert overlap(LETTER_TEXT, event.details["text"]) >= 0.8
        assert petition.analysis is not None
        assert "rsj" in [d["code"] for d in petition.analysis["departments"][:3]]
        audits = s.execute(select(AuditEntry).where(AuditEntry.action == "petition.ocr")).scalars().all()
        assert len(audits) == 1
        dumped = json.dumps(audits[0].details, ensure_ascii=False)
        assert "万安镇" not in dumped and "拖欠" not in dumped  # the length, never the text


@needs_ocr
def test_a_written_body_is_kept(client: TestClient, auth: Auth, seeded: Runtime, letter_png: bytes) -> None:
    from xinfang.cases.models import Event, Petition
    from xinfang.cli.jobs import make_worker

    body = "来信反映村道损坏,要求维修。"
    petition_id = _letter(client, auth, body)
    _upload(client, auth, petition_id, letter_png, "scan.png")
    assert make_worker(seeded).run_until_idle() == 2  # the OCR and the enrichment
    with seeded.session() as s:
        petition = s.get(Petition, petition_id)
        assert petition is not None and petition.body == body
        event = s.execute(
            select(Event).where(Event.petition_id == petition_id, Event.kind == "ocr_text")
        ).scalar_one()
        assert event.details["body_filled"] is False and event.details["chars"] > 20
