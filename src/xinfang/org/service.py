"""Organisation and user services: load the organisation, manage users, log in, resolve tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
        if spec.parent_code:
            parent = by_code.get(spec.parent_code)
            if parent is None:
                raise InvalidInput(f"unknown parent {spec.parent_code} for {spec.code}")
            unit.parent = parent
    session.flush()
    return created


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.execute(select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()
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


def authenticate(session: Session, *, username: str, password: str, now: datetime) -> User:
    """Check a password; count failures and lock the account for a while after too many."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.is_active:
        passwords.verify_password(passwords.DUMMY_HASH, password)
        raise AuthenticationFailed("用户名或密码错误", code="auth.bad_credentials")
    if user.locked_until and user.locked_until > now:
        raise AuthenticationFailed("登录失败次数过多,账户已临时锁定", code="auth.locked")
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        raise AuthenticationFailed("用户名或密码错误", code="auth.bad_credentials")
    user.failed_logins = 0
    user.locked_until = None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_token(session: Session, *, user: User, now: datetime, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AuthToken(token_hash=_token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl)
    )
    audit.record(
        session, actor=_actor_of(user), action="auth.login", at=now, object_type="user", object_id=user.id
    )
    return token


def revoke_token(session: Session, *, token: str, now: datetime) -> None:
    row = session.execute(
        select(AuthToken).where(AuthToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def user_for_token(session: Session, *, token: str, now: datetime) -> User | None:
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
    return user if user is not None and user.is_active else None


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
