"""Administration API: users (create, reset password, deactivate) and notice templates (validated upload)."""

from __future__ import annotations

import io
from collections.abc import Callable

import docx
from fastapi.testclient import TestClient

from xinfang.cases.notices import template_path

Auth = Callable[[str], dict[str, str]]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_admin_creates_a_user_and_resets_the_password(client: TestClient, auth: Auth) -> None:
    r = client.post(
        "/api/admin/users",
        json={"username": "zhang", "password": "first-pass-1", "role": "handler", "unit": "rsj"},
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert any(u["username"] == "zhang" for u in client.get("/api/admin/users", headers=auth("admin")).json())
    r = client.post(
        "/api/admin/users/zhang/password", json={"password": "second-pass-2"}, headers=auth("admin")
    )
    assert r.status_code == 200
    assert (
        client.post("/api/auth/token", data={"username": "zhang", "password": "second-pass-2"}).status_code
        == 200
    )
    r = client.post("/api/admin/users/zhang/active", json={"active": False}, headers=auth("admin"))
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert (
        client.post("/api/auth/token", data={"username": "zhang", "password": "second-pass-2"}).status_code
        == 401
    )


def test_only_admins_manage_users(client: TestClient, auth: Auth) -> None:
    assert client.get("/api/admin/users", headers=auth("supervisor")).status_code == 403
    r = client.post("/api/admin/users/clerk/password", json={"password": "whatever-1"}, headers=auth("clerk"))
    assert r.status_code == 403


def _docx(text: str) -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_a_template_upload_is_validated(client: TestClient, auth: Auth) -> None:
    kinds = client.get("/api/admin/notice-templates", headers=auth("admin")).json()
    assert len(kinds) == 9 and not any(k["customised"] for k in kinds)
    bad = client.put(
        "/api/admin/notice-templates/acceptance",
        files={"file": ("a.docx", _docx("{{issuing_body}} 受理告知书"), DOCX)},
        headers=auth("admin"),
    )
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "notices.template_incomplete"
    not_docx = client.put(
        "/api/admin/notice-templates/acceptance",
        files={"file": ("a.docx", b"hello", DOCX)},
        headers=auth("admin"),
    )
    assert not_docx.status_code == 422
    good = template_path("acceptance").read_bytes()
    ok = client.put(
        "/api/admin/notice-templates/acceptance",
        files={"file": ("a.docx", good, DOCX)},
        headers=auth("admin"),
    )
    assert ok.status_code == 200, ok.text
    kinds = {k["kind"]: k for k in client.get("/api/admin/notice-templates", headers=auth("admin")).json()}
    assert kinds["acceptance"]["customised"]
    assert client.get("/api/admin/notice-templates/acceptance", headers=auth("admin")).content == good
