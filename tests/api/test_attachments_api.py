"""Attachments: content-addressed, type sniffed from the bytes, size-limited, scoped like their petition."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.factories import petition_payload

Auth = Callable[[str], dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _petition(client: TestClient, auth: Auth) -> int:
    return client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]


def test_it_stores_a_scan_and_returns_it(client: TestClient, auth: Auth) -> None:
    pid = _petition(client, auth)
    r = client.post(
        f"/api/petitions/{pid}/attachments", files={"file": ("来信扫描.png", PNG)}, headers=auth("clerk")
    )
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png"
    back = client.get(f"/api/attachments/{r.json()['id']}", headers=auth("clerk"))
    assert back.status_code == 200 and back.content == PNG
    events = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()["events"]
    assert "attachment_added" in [e["kind"] for e in events]


def test_the_same_bytes_are_stored_once(client: TestClient, auth: Auth, seeded) -> None:  # type: ignore[no-untyped-def]
    pid = _petition(client, auth)
    a = client.post(
        f"/api/petitions/{pid}/attachments", files={"file": ("a.png", PNG)}, headers=auth("clerk")
    ).json()
    b = client.post(
        f"/api/petitions/{pid}/attachments", files={"file": ("b.png", PNG)}, headers=auth("clerk")
    ).json()
    assert a["sha256"] == b["sha256"]
    assert len(list(seeded.settings.attachments_dir.rglob("*"))) == 2  # one folder, one file


def test_a_renamed_executable_is_refused(client: TestClient, auth: Auth) -> None:
    pid = _petition(client, auth)
    for payload in (b"MZ\x90\x00" + b"\x00" * 100, b"\x7fELF" + b"\x00" * 100, b"#!/bin/sh\nrm -rf /\n"):
        r = client.post(
            f"/api/petitions/{pid}/attachments", files={"file": ("scan.pdf", payload)}, headers=auth("clerk")
        )
        assert r.status_code == 422 and r.json()["detail"]["code"] == "attachment.type_refused"


def test_an_oversized_upload_is_refused(client: TestClient, auth: Auth, seeded) -> None:  # type: ignore[no-untyped-def]
    pid = _petition(client, auth)
    big = b"%PDF-" + b"0" * (seeded.settings.max_upload_bytes + 10)
    r = client.post(
        f"/api/petitions/{pid}/attachments", files={"file": ("big.pdf", big)}, headers=auth("clerk")
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "attachment.too_large"


def test_another_department_cannot_download_it(client: TestClient, auth: Auth) -> None:
    pid = _petition(client, auth)
    att = client.post(
        f"/api/petitions/{pid}/attachments", files={"file": ("a.png", PNG)}, headers=auth("clerk")
    )
    assert client.get(f"/api/attachments/{att.json()['id']}", headers=auth("handler_zjj")).status_code == 404
