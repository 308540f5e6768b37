"""The optional TOTP second login factor: enrolment, login with a code, disabling, the administrator's reset.

How a login goes (the web page and the API share `sign_in`):

- the password is checked as before (`org.service.authenticate`), but a right password does not clear the failure
  count while a code is still owed: wrong codes count toward the same lockout as wrong passwords;
- a user with a confirmed TOTP credential then needs a code of the current time step ±1 that is later than the last
  step accepted for them (no replay). The API takes it in the same request (`totp` field); the page asks for it on a
  second form, holding a short-lived token of stage "totp" meanwhile;
- a user whose role is listed in `Settings.totp_required_roles` but who has no credential gets a token of stage
  "enrol": it opens the account page (and its API) and nothing else, until a confirmed enrolment promotes it.

Every enrolment, disabling, reset and wrong code is written to the audit log; the secret never is, nor logged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinfang.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from xinfang.org import service as org_service
from xinfang.org.models import User
from xinfang.org.service import STAGE_ENROL, STAGE_FULL, STAGE_TOTP
from xinfang.security import audit, totp
from xinfang.security.actors import Actor, actor_for
from xinfang.security.crypto import KeyRing
from xinfang.security.models import AuthToken, TotpCredential
from xinfang.security.permissions import require

if TYPE_CHECKING:
    from xinfang.runtime import Runtime

# A half-way token lives long enough to open the phone app and type, not for a whole working day.
CODE_STEP_TTL = timedelta(minutes=5)
ENROL_TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class Status:
    active: bool
    pending: bool
    required: bool
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Enrolment:
    """What the user needs to set up their app: the base32 secret and the otpauth:// URI (both shown once)."""

    secret: str
    uri: str


@dataclass(frozen=True)
class SignIn:
    token: str
    stage: str
    ttl: timedelta  # how long the token lives: the page's cookie lasts as long


def required_for(user: User, required_roles: Collection[str]) -> bool:
    return user.role in required_roles


def _credential(session: Session, user_id: int, *, lock: bool = False) -> TotpCredential | None:
    return session.get(TotpCredential, user_id, with_for_update=lock)


def is_active(session: Session, user_id: int) -> bool:
    cred = _credential(session, user_id)
    return cred is not None and cred.confirmed_at is not None


def active_user_ids(session: Session) -> set[int]:
    q = select(TotpCredential.user_id).where(TotpCredential.confirmed_at.is_not(None))
    return set(session.execute(q).scalars())


def status(session: Session, *, user: User, required_roles: Collection[str]) -> Status:
    cred = _credential(session, user.id)
    return Status(
        active=cred is not None and cred.confirmed_at is not None,
        pending=cred is not None and cred.confirmed_at is None,
        required=required_for(user, required_roles),
        confirmed_at=cred.confirmed_at if cred else None,
    )


def _audit(session: Session, user: User, action: str, now: datetime, **details: object) -> None:
    audit.record(
        session,
        actor=actor_for(user),
        action=action,
        at=now,
        object_type="user",
        object_id=user.id,
        details={"username": user.username, **details},
    )


def _enrolment(keyring: KeyRing, user: User, cred: TotpCredential) -> Enrolment:
    secret = keyring.decrypt(cred.secret_enc)
    return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, user.username))


def begin_enrolment(session: Session, *, keyring: KeyRing, user: User, now: datetime) -> Enrolment:
    """A new secret awaiting confirmation (replacing an unconfirmed one); refused while one is active."""
    cred = _credential(session, user.id, lock=True)
    if cred is not None and cred.confirmed_at is not None:
        raise Conflict("已启用双因素认证;如需更换手机,请先停用再重新启用", code="totp.already_active")
    secret = totp.new_secret()
    if cred is None:
        cred = TotpCredential(user_id=user.id, created_at=now)
        session.add(cred)
    cred.secret_enc, cred.created_at, cred.last_step = keyring.encrypt(secret), now, None
    _audit(session, user, "totp.enrol_start", now)
    return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, user.username))


def pending_enrolment(session: Session, *, keyring: KeyRing, user: User) -> Enrolment | None:
    """The unconfirmed secret again (the account page shows it until the user has confirmed a code)."""
    cred = _credential(session, user.id)
    if cred is None or cred.confirmed_at is not None:
        return None
    return _enrolment(keyring, user, cred)


def confirm_enrolment(session: Session, *, keyring: KeyRing, user: User, code: str, now: datetime) -> None:
    """Activate the pending secret once the user proves their app computes the same codes."""
    cred = _credential(session, user.id, lock=True)
    if cred is None or cred.confirmed_at is not None:
        raise Conflict("没有待确认的双因素认证,请先点击“启用”", code="totp.no_pending")
    step = totp.matching_step(keyring.decrypt(cred.secret_enc), code, now=now, after_step=cred.last_step)
    if step is None:
        _audit(session, user, "totp.failed_code", now, during="enrol")
        raise InvalidInput("验证码不正确,请核对手机时间后重试", code="totp.invalid_code")
    cred.confirmed_at, cred.last_step = now, step
    _audit(session, user, "totp.enrol", now)


def is_locked(user: User, now: datetime) -> bool:
    """Wrong passwords and wrong codes run the same lockout."""
    return bool(user.locked_until and user.locked_until > now)


def _check_code(
    session: Session, *, keyring: KeyRing, user: User, code: str, now: datetime, during: str
) -> bool:
    """Verify a code of an active credential; a wrong one counts toward the lockout and is audited."""
    cred = _credential(session, user.id, lock=True)
    if cred is None or cred.confirmed_at is None:
        return False
    step = totp.matching_step(keyring.decrypt(cred.secret_enc), code, now=now, after_step=cred.last_step)
    if step is None:
        org_service.count_failure(user, now)
        locked = is_locked(user, now)
        _audit(session, user, "totp.failed_code", now, during=during, **({"locked": True} if locked else {}))
        return False
    cred.last_step = step
    return True


def disable(
    session: Session,
    *,
    keyring: KeyRing,
    user: User,
    code: str,
    now: datetime,
    required_roles: Collection[str],
) -> None:
    """The user switches the second factor off, proving with a valid code that they still hold it."""
    if required_for(user, required_roles):
        raise PermissionDenied(
            "你的角色必须使用双因素认证,不能停用;更换手机请联系管理员重置", code="totp.required_by_policy"
        )
    if not is_active(session, user.id):
        raise Conflict("尚未启用双因素认证", code="totp.not_active")
    org_service.check_not_locked(user, now)
    if not _check_code(session, keyring=keyring, user=user, code=code, now=now, during="disable"):
        raise InvalidInput("验证码不正确或已使用", code="totp.invalid_code")
    session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    _audit(session, user, "totp.disable", now)


def admin_reset(session: Session, *, actor: Actor, username: str, now: datetime) -> User:
    """An administrator removes a user's second factor (a lost phone); a required role re-enrols at next login."""
    require(actor, "user.manage")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"用户 {username} 不存在", code="user.not_found")
    cred = _credential(session, user.id, lock=True)
    if cred is not None:
        session.delete(cred)
    audit.record(
        session,
        actor=actor,
        action="totp.reset",
        at=now,
        object_type="user",
        object_id=user.id,
        details={"username": username, "had_credential": cred is not None},
    )
    return user


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    code: str | None,
    now: datetime,
    keyring: KeyRing,
    required_roles: Collection[str],
    ttl: timedelta,
    code_later: bool = False,
) -> SignIn:
    """Password, then the second factor as the user's credential and role demand; returns a token and its stage.

    Without `code` a user with TOTP gets a token of stage "totp" when `code_later` (the page's second form) and
    otherwise the error auth.totp_required (the API wants the code in the same request).
    """
    user = org_service.authenticate(
        session, username=username, password=password, now=now, reset_failures=False
    )
    if is_active(session, user.id):
        if not code:
            if not code_later:
                raise AuthenticationFailed("请输入动态验证码", code="auth.totp_required")
            token = org_service.issue_token(session, user=user, now=now, ttl=CODE_STEP_TTL, stage=STAGE_TOTP)
            return SignIn(token, STAGE_TOTP, CODE_STEP_TTL)
        if not _check_code(session, keyring=keyring, user=user, code=code, now=now, during="login"):
            raise AuthenticationFailed("动态验证码错误或已使用", code="auth.totp_invalid")
        org_service.clear_failures(user)
        return SignIn(org_service.issue_token(session, user=user, now=now, ttl=ttl), STAGE_FULL, ttl)
    org_service.clear_failures(user)
    if required_for(user, required_roles):
        token = org_service.issue_token(session, user=user, now=now, ttl=ENROL_TTL, stage=STAGE_ENROL)
        return SignIn(token, STAGE_ENROL, ENROL_TTL)
    return SignIn(org_service.issue_token(session, user=user, now=now, ttl=ttl), STAGE_FULL, ttl)


def sign_in_with(
    session: Session,
    runtime: Runtime,
    *,
    username: str,
    password: str,
    code: str | None,
    code_later: bool = False,
) -> SignIn:
    """`sign_in` under this deployment's keys, TOTP policy and token lifetime: the API's token and the page's form
    are two doors to one login, so they cannot drift apart on who must give a code."""
    return sign_in(
        session,
        username=username,
        password=password,
        code=code,
        now=runtime.clock.now(),
        keyring=runtime.keyring,
        required_roles=runtime.settings.totp_required_roles,
        ttl=runtime.token_ttl,
        code_later=code_later,
    )


def complete_with_code(
    session: Session,
    *,
    keyring: KeyRing,
    row: AuthToken,
    user: User,
    code: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    """The page's second step: a valid code turns the "totp" token into a signed-in session."""
    if row.stage != STAGE_TOTP:
        raise AuthenticationFailed("请先登录", code="auth.required")
    org_service.check_not_locked(user, now)
    if not _check_code(session, keyring=keyring, user=user, code=code, now=now, during="login"):
        raise AuthenticationFailed("动态验证码错误或已使用", code="auth.totp_invalid")
    org_service.clear_failures(user)
    org_service.promote_token(session, row=row, user=user, now=now, ttl=ttl)


def confirm_and_continue(
    session: Session,
    *,
    keyring: KeyRing,
    row: AuthToken,
    user: User,
    code: str,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """Confirm an enrolment; a forced enrolment ("enrol" token) then completes the login. True if it did."""
    confirm_enrolment(session, keyring=keyring, user=user, code=code, now=now)
    if row.stage == STAGE_ENROL:
        org_service.promote_token(session, row=row, user=user, now=now, ttl=ttl)
        return True
    return False
