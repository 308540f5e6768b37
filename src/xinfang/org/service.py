"""Organisation and user services: load the organisation, manage users, log in, resolve tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from xinfang.cases.enums import OrgKind, Role
from xinfang.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from xinfang.org.models import OrgUnit, User
from xinfang.security import audit, passwords
from xinfang.security.actors import Actor
from xinfang.security.models import AuthToken
from xinfang.security.permissions import require

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class OrgSpec:
    code: str
    name: str
    kind: OrgKind
    parent_code: str | None = None
    short_name: str | None = None
    lng: float | None = None
    lat: float | None = None
    population: int | None = None
    aliases: tuple[str, ...] = ()


def upsert_org_units(session: Session, specs: Iterable[OrgSpec]) -> int:
    """Create or update units by code (parents before children). Returns how many were created."""
    by_code = {u.code: u for u in session.execute(select(OrgUnit)).scalars()}
    created = 0
    for spec in specs:
        unit = by_code.get(spec.code)
        if unit is None:
            unit = OrgUnit(code=spec.code)
            session.add(unit)
            by_code[spec.code] = unit
            created += 1
        unit.name, unit.kind, unit.short_name = spec.name, spec.kind.value, spec.short_name
        unit.lng, unit.lat, unit.population = spec.lng, spec.lat, spec.population
        unit.aliases = list(spec.aliases) or None
        if spec.parent_code:
            parent = by_code.get(spec.parent_code)
            if parent is None:
                raise InvalidInput(f"unknown parent {spec.parent_code} for {spec.code}")
            unit.parent = parent
    session.flush()
    return created


def find_unit(session: Session, code: str) -> OrgUnit | None:
    """The unit with this code, or None.

    Without autoflush unless the session holds new units: units are written by upsert_org_units, which flushes, so
    a lookup has nothing of its own to flush, and flushing the caller's pending petition data at every lookup cost
    intake a unit of work each time."""
    query = select(OrgUnit).where(OrgUnit.code == code)
    if any(isinstance(obj, OrgUnit) for obj in session.new):
        return session.execute(query).scalar_one_or_none()
    with session.no_autoflush:
        return session.execute(query).scalar_one_or_none()


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None:
        raise NotFound(f"未知单位代码 {code}", code="org.unknown_unit", unit=code)
    return unit


def list_units(session: Session, *, actor: Actor, kinds: Iterable[OrgKind] | None = None) -> list[OrgUnit]:
    require(actor, "org.read")
    q = select(OrgUnit).order_by(OrgUnit.kind, OrgUnit.code)
    if kinds:
        q = q.where(OrgUnit.kind.in_([k.value for k in kinds]))
    return list(session.execute(q).scalars())


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    display_name: str | None = None,
    org_code: str | None = None,
) -> User:
    require(actor, "user.manage")
    passwords.check_policy(password)
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"用户名 {username} 已存在", code="user.exists")
    if role == Role.HANDLER and not org_code:
        raise InvalidInput("办理员必须属于一个单位(--department)", code="user.handler_needs_unit")
    unit = get_unit_by_code(session, org_code) if org_code else None
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=passwords.hash_password(password),
        role=role.value,
        org_unit=unit,
        created_at=now,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        at=now,
        object_type="user",
        object_id=user.id,
        details={"username": username, "role": role.value, "unit": org_code},
    )
    return user


def authenticate(
    session: Session, *, username: str, password: str, now: datetime, reset_failures: bool = True
) -> User:
    """Check a password; count failures and lock the account for a while after too many.

    `reset_failures=False` leaves the failure count alone on success: with a second factor still owed, a right
    password must not wipe the wrong codes counted so far (else password, 4 guesses, password, 4 guesses ... would
    never lock). The caller then calls `clear_failures` once the whole login has succeeded.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        passwords.verify_password(passwords.DUMMY_HASH, password)
        raise AuthenticationFailed("用户名或密码错误", code="auth.bad_credentials")
    check_not_locked(user, now)
    if not passwords.verify_password(user.password_hash, password):
        count_failure(user, now)
        raise AuthenticationFailed("用户名或密码错误", code="auth.bad_credentials")
    if reset_failures:
        clear_failures(user)
    return user


def check_not_locked(user: User, now: datetime) -> None:
    if user.locked_until and user.locked_until > now:
        raise AuthenticationFailed("登录失败次数过多,账户已临时锁定", code="auth.locked")


def count_failure(user: User, now: datetime) -> None:
    """One more failed login (a wrong password or a wrong second-factor code); lock after MAX_FAILED_LOGINS.

    Counted by one atomic UPDATE, not `user.failed_logins += 1`: several app instances (or threads) checking wrong
    passwords for one account at once would each read the same count and write the same count + 1, so a guesser
    spreading attempts over the instances would never be locked out. The database increments under its row lock.
    """
    session = object_session(user)
    if session is None:  # a detached user (no database to count in): count on the object
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        return
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=func.coalesce(User.failed_logins, 0) + 1)
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures >= MAX_FAILED_LOGINS:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=now + LOCKOUT, failed_logins=0)
            .execution_options(synchronize_session=False)
        )
    session.expire(user, ["failed_logins", "locked_until"])


def clear_failures(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# Stages of a token (AuthToken.stage): only a FULL token is a signed-in session.
STAGE_FULL, STAGE_TOTP, STAGE_ENROL = "full", "totp", "enrol"


def issue_token(
    session: Session, *, user: User, now: datetime, ttl: timedelta, stage: str = STAGE_FULL
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AuthToken(
            token_hash=_token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl, stage=stage
        )
    )
    if stage == STAGE_FULL:
        audit.record(
            session, actor=_actor_of(user), action="auth.login", at=now, object_type="user", object_id=user.id
        )
    return token


def promote_token(session: Session, *, row: AuthToken, user: User, now: datetime, ttl: timedelta) -> None:
    """Turn a half-way token (second factor owed, or enrolment forced) into a full session: the login completes."""
    row.stage = STAGE_FULL
    row.expires_at = now + ttl
    audit.record(
        session, actor=_actor_of(user), action="auth.login", at=now, object_type="user", object_id=user.id
    )


def revoke_token(session: Session, *, token: str, now: datetime) -> None:
    row = session.execute(
        select(AuthToken).where(AuthToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def token_session(session: Session, *, token: str, now: datetime) -> tuple[AuthToken, User] | None:
    """The live token row and its (active) user, whatever the token's stage."""
    try:
        token.encode("ascii")
    except UnicodeEncodeError:
        return None
    row = session.execute(
        select(AuthToken).where(AuthToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return (row, user) if user is not None and user.is_active else None


def user_for_token(session: Session, *, token: str, now: datetime) -> User | None:
    """The signed-in user of a full session token; half-way tokens (see STAGE_*) sign no one in."""
    found = token_session(session, token=token, now=now)
    return found[1] if found is not None and found[0].stage == STAGE_FULL else None


def _actor_of(user: User) -> Actor:
    from xinfang.security.actors import actor_for

    return actor_for(user)


def unit_to_dict(unit: OrgUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent else None,
    }
