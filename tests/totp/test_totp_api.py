"""The TOTP second factor through the API, on SQLite and PostgreSQL: enrolment, login with and without a code, wrong
and replayed codes, the lockout, disabling, the administrator's reset, a role that must enrol, key rotation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from xinfang.clock import FixedClock
from xinfang.ops.keys import rotate
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM
from xinfang.security.crypto import KeyRing
from xinfang.security.models import AuditEntry, TotpCredential

Auth = Callable[[str], dict[str, str]]
Code = Callable[..., str]
Post = Callable[..., Any]


def _enrol(client: TestClient, headers: dict[str, str], code_now: Code) -> str:
    r = client.post("/api/account/totp/enrolment", headers=headers)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    r = client.post("/api/account/totp/enrolment/confirm", json={"code": code_now(secret)}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True and r.json()["session_completed"] is False
    return str(secret)


def _actions(rt: Runtime, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    with rt.session() as s:
        rows = s.execute(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.seq)
        ).scalars()
        return [(e.action, dict(e.details)) for e in rows]


def test_enrol_then_login_needs_the_code_and_a_code_works_once(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, clock: FixedClock, seeded: Runtime
) -> None:
    status = client.get("/api/account/totp", headers=auth("clerk")).json()
    assert status == {"active": False, "pending": False, "required": False, "confirmed_at": None}
    secret = _enrol(client, auth("clerk"), code_now)

    r = password_token("clerk")
    assert r.status_code == 401 and r.json()["detail"]["code"] == "auth.totp_required"
    r = password_token("clerk", code_now(secret))  # the step confirmed at enrolment: already used
    assert r.status_code == 401 and r.json()["detail"]["code"] == "auth.totp_invalid"
    r = password_token("clerk", code_now(secret, +1))  # the next step, inside the window
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert r.json()["totp_enrolment_required"] is False
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "clerk"
    r = password_token("clerk", code_now(secret, +1))  # replayed
    assert r.status_code == 401 and r.json()["detail"]["code"] == "auth.totp_invalid"

    clock.advance(seconds=60)  # two steps later the app shows a fresh code
    assert password_token("clerk", code_now(secret)).status_code == 200
    assert password_token("clerk", "000000", password="wrong-pass-1").json()["detail"]["code"] == (
        "auth.bad_credentials"
    )

    with seeded.session() as s:
        stored = s.execute(select(TotpCredential.secret_enc)).scalar_one()
    assert secret not in stored and stored.startswith("sm4gcm1:")  # encrypted at rest
    actions = [a for a, _ in _actions(seeded, "totp.")]
    assert actions == ["totp.enrol_start", "totp.enrol", "totp.failed_code", "totp.failed_code"]
    assert all(secret not in str(d) for _, d in _actions(seeded, ""))  # never in the audit log


def test_a_wrong_confirmation_code_keeps_the_enrolment_pending(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, seeded: Runtime
) -> None:
    r = client.post("/api/account/totp/enrolment", headers=auth("clerk"))
    secret = r.json()["secret"]
    wrong = f"{(int(code_now(secret)) + 1) % 1_000_000:06d}"
    r = client.post("/api/account/totp/enrolment/confirm", json={"code": wrong}, headers=auth("clerk"))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "totp.invalid_code"
    assert client.get("/api/account/totp", headers=auth("clerk")).json()["pending"] is True
    assert password_token("clerk").status_code == 200  # not active yet: the password alone still signs in
    # Asking again replaces the pending secret; the old one can no longer confirm.
    again = client.post("/api/account/totp/enrolment", headers=auth("clerk")).json()["secret"]
    assert again != secret
    r = client.post(
        "/api/account/totp/enrolment/confirm", json={"code": code_now(secret)}, headers=auth("clerk")
    )
    assert r.status_code == 422
    assert ("totp.failed_code", {"username": "clerk", "during": "enrol"}) in _actions(seeded, "totp.")


def test_wrong_codes_count_toward_the_lockout_even_after_a_right_password(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, clock: FixedClock, seeded: Runtime
) -> None:
    secret = _enrol(client, auth("supervisor"), code_now)
    wrong = f"{(int(code_now(secret, +1)) + 7) % 1_000_000:06d}"
    for _ in range(4):
        assert password_token("supervisor", wrong).json()["detail"]["code"] == "auth.totp_invalid"
    assert password_token("supervisor").json()["detail"]["code"] == "auth.totp_required"  # no reset
    r = password_token("supervisor", wrong)  # the fifth wrong code locks
    assert r.status_code == 401
    r = password_token("supervisor", code_now(secret, +1))
    assert r.status_code == 423 and r.json()["detail"]["code"] == "auth.locked"
    assert ("totp.failed_code", {"username": "supervisor", "during": "login", "locked": True}) in _actions(
        seeded, "totp."
    )
    clock.advance(minutes=16)
    assert password_token("supervisor", code_now(secret)).status_code == 200


def test_disable_needs_a_valid_code_and_a_role_that_must_use_it_cannot(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, clock: FixedClock, seeded: Runtime
) -> None:
    secret = _enrol(client, auth("handler_rsj"), code_now)
    r = client.post("/api/account/totp/disable", json={"code": "123"}, headers=auth("handler_rsj"))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "totp.invalid_code"
    seeded.settings.totp_required_roles = ["handler"]
    r = client.post(
        "/api/account/totp/disable", json={"code": code_now(secret, +1)}, headers=auth("handler_rsj")
    )
    assert r.status_code == 403 and r.json()["detail"]["code"] == "totp.required_by_policy"
    seeded.settings.totp_required_roles = []
    r = client.post(
        "/api/account/totp/disable", json={"code": code_now(secret, +1)}, headers=auth("handler_rsj")
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert password_token("handler_rsj").status_code == 200
    r = client.post("/api/account/totp/disable", json={"code": "000000"}, headers=auth("handler_rsj"))
    assert r.status_code == 409
    assert [a for a, _ in _actions(seeded, "totp.")][-2:] == ["totp.failed_code", "totp.disable"]


def test_an_administrator_resets_a_lost_phone_and_is_audited(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, seeded: Runtime
) -> None:
    _enrol(client, auth("leader"), code_now)
    assert password_token("leader").json()["detail"]["code"] == "auth.totp_required"
    r = client.delete("/api/admin/users/leader/totp", headers=auth("clerk"))
    assert r.status_code == 403
    assert client.delete("/api/admin/users/ghost/totp", headers=auth("admin")).status_code == 404
    r = client.delete("/api/admin/users/leader/totp", headers=auth("admin"))
    assert r.status_code == 200 and r.json() == {"username": "leader", "totp_active": False}
    assert password_token("leader").status_code == 200
    resets = [(a, d) for a, d in _actions(seeded, "totp.reset")]
    assert resets == [("totp.reset", {"username": "leader", "had_credential": True})]
    with seeded.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "totp.reset")).scalar_one()
        assert entry.actor_name == "admin"


def test_a_role_that_must_use_it_enrols_before_reaching_anything_else(
    client: TestClient, code_now: Code, password_token: Post, seeded: Runtime
) -> None:
    seeded.settings.totp_required_roles = ["leader", "admin"]
    r = password_token("leader")
    assert r.status_code == 200 and r.json()["totp_enrolment_required"] is True
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for path in ("/api/me", "/api/petitions", "/api/analytics/heatmap"):
        r = client.get(path, headers=headers)
        assert r.status_code == 403 and r.json()["detail"]["code"] == "auth.totp_enrolment_required", path
    assert client.get("/api/account/totp", headers=headers).json()["required"] is True
    secret = client.post("/api/account/totp/enrolment", headers=headers).json()["secret"]
    r = client.post("/api/account/totp/enrolment/confirm", json={"code": code_now(secret)}, headers=headers)
    assert r.status_code == 200 and r.json()["session_completed"] is True
    assert (
        client.get("/api/me", headers=headers).json()["role"] == "leader"
    )  # the token is a full session now
    assert password_token("leader").json()["detail"]["code"] == "auth.totp_required"
    r = password_token("leader", code_now(secret, +1))
    assert r.status_code == 200 and r.json()["totp_enrolment_required"] is False
    # A role not listed is untouched; an enrolment token can log out.
    assert password_token("clerk").json()["totp_enrolment_required"] is False
    admin = {"Authorization": f"Bearer {password_token('admin').json()['access_token']}"}
    assert client.post("/api/auth/logout", headers=admin).status_code == 204
    assert client.get("/api/account/totp", headers=admin).status_code == 401


def test_key_rotation_reencrypts_the_secrets_and_codes_still_work(
    client: TestClient, auth: Auth, code_now: Code, password_token: Post, seeded: Runtime
) -> None:
    secret = _enrol(client, auth("clerk"), code_now)
    new_ring = KeyRing.from_settings("k2", "a-brand-new-key-0001", {"k1": seeded.settings.data_key})
    with seeded.session() as s:
        counts = rotate(s, keyring=new_ring, actor=SYSTEM, now=seeded.clock.now())
    assert counts["totp_secrets"] == 1
    with seeded.session() as s:
        stored = s.execute(select(TotpCredential.secret_enc)).scalar_one()
    assert stored.startswith("sm4gcm1:k2:") and new_ring.decrypt(stored) == secret
