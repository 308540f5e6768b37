"""The signed-in user's own account: the optional TOTP second factor (RFC 6238); and the administrator's reset.

Enrolment is two calls: `POST /api/account/totp/enrolment` returns a new secret (base32) and its otpauth:// URI for
the authenticator app; `POST /api/account/totp/enrolment/confirm` with a code the app shows activates it. These
routes also accept the token of a forced enrolment (`totp_enrolment_required` at login), and confirming turns that
token into a full session. Secrets are stored SM4-encrypted and never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from xinfang.errors import XinfangError
from xinfang.org import second_factor
from xinfang.web.deps import AccountSessionDep, ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api", tags=["account"])

_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_ERROR_TEXT = {
    401: "未登录或登录已过期",
    403: "请求来源校验失败(CSRF),或角色要求启用双因素认证而不能停用",
    409: "双因素认证的状态不允许此操作",
    422: "验证码不正确或已使用",
    423: "登录失败次数过多,账户已临时锁定",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of routes that authenticate through `account_session` (web.openapi_errors derives them
    only for routes depending on the current actor)."""
    return {s: {"description": _ERROR_TEXT[s], "content": _ERROR_REF} for s in statuses}


class TotpStatus(BaseModel):
    active: bool = Field(description="the second factor is on: login asks for a code")
    pending: bool = Field(description="an enrolment awaits its confirming code")
    required: bool = Field(description="the user's role must use it (Settings.totp_required_roles)")
    confirmed_at: datetime | None = None


class TotpEnrolment(BaseModel):
    secret: str = Field(description="base32 secret, for typing into the app by hand; shown only now")
    otpauth_uri: str = Field(description="otpauth://totp/… URI (RFC 6238, SHA1, 6 digits, 30 s) for the app")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=16, description="the current 6-digit code of the app")


class ConfirmOut(TotpStatus):
    session_completed: bool = Field(
        False, description="true: this was a forced enrolment and the token is now a full session"
    )


def _status(session: Any, runtime: Any, user: Any) -> TotpStatus:
    st = second_factor.status(session, user=user, required_roles=runtime.settings.totp_required_roles)
    return TotpStatus(
        active=st.active, pending=st.pending, required=st.required, confirmed_at=st.confirmed_at
    )


@router.get("/account/totp", responses=error_responses(401))
def totp_status(session: SessionDep, runtime: RuntimeDep, signed_in: AccountSessionDep) -> TotpStatus:
    """Whether the second factor is on, awaiting confirmation, or required for the user's role."""
    return _status(session, runtime, signed_in[1])


@router.post("/account/totp/enrolment", status_code=201, responses=error_responses(401, 403, 409))
def begin_enrolment(session: SessionDep, runtime: RuntimeDep, signed_in: AccountSessionDep) -> TotpEnrolment:
    """Generate a new secret (replacing an unconfirmed one). 409 while a confirmed one is active."""
    enrolment = second_factor.begin_enrolment(
        session, keyring=runtime.keyring, user=signed_in[1], now=runtime.clock.now()
    )
    session.commit()
    return TotpEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post("/account/totp/enrolment/confirm", responses=error_responses(401, 403, 409, 422))
def confirm_enrolment(
    data: CodeIn, session: SessionDep, runtime: RuntimeDep, signed_in: AccountSessionDep
) -> ConfirmOut:
    """Activate the pending secret with a code from the app (422 totp.invalid_code if it does not match)."""
    row, user = signed_in
    try:
        completed = second_factor.confirm_and_continue(
            session,
            keyring=runtime.keyring,
            row=row,
            user=user,
            code=data.code,
            now=runtime.clock.now(),
            ttl=runtime.token_ttl,
        )
    except XinfangError:
        session.commit()  # keep the audit entry of a wrong code
        raise
    session.commit()
    return ConfirmOut(**_status(session, runtime, user).model_dump(), session_completed=completed)


@router.post("/account/totp/disable", responses=error_responses(401, 403, 409, 422, 423))
def disable(
    data: CodeIn, session: SessionDep, runtime: RuntimeDep, signed_in: AccountSessionDep
) -> TotpStatus:
    """Switch the second factor off with a valid code. Refused (403 totp.required_by_policy) where the role must use
    it; a wrong code counts toward the login lockout."""
    user = signed_in[1]
    try:
        second_factor.disable(
            session,
            keyring=runtime.keyring,
            user=user,
            code=data.code,
            now=runtime.clock.now(),
            required_roles=runtime.settings.totp_required_roles,
        )
    except XinfangError:
        session.commit()  # keep the failure count and the audit entry of a wrong code
        raise
    session.commit()
    return _status(session, runtime, user)


@router.delete("/admin/users/{username}/totp", tags=["admin"])
def admin_reset(username: str, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Administrator: remove a user's second factor (a lost phone). Audited; a role that requires it enrols
    again at the next login."""
    user = second_factor.admin_reset(session, actor=actor, username=username, now=runtime.clock.now())
    session.commit()
    return {"username": user.username, "totp_active": False}
