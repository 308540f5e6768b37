"""Administration services: accounts and notice templates. Every change needs `user.manage` and is audited.

Notice templates: a deployment keeps its edited copies in one folder (`Settings.notice_templates_dir`). A
replacement is checked like the procedure checks a template before issuing a notice — it must be a .docx that still
holds every placeholder the regulation requires for its kind, no unknown placeholder (a typo would print braces to a
citizen) and no personal identifier — before it is written. The first replacement copies the packaged defaults of
the other kinds into the folder, so that the folder always holds a complete set.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from xinfang.cases.notices import (
    FIELDS,
    FORBIDDEN,
    NOTICE_TITLES,
    REQUIRED,
    NoticeKind,
    placeholders_in,
    template_path,
)
from xinfang.errors import InvalidInput, NotFound
from xinfang.org.models import User
from xinfang.security import audit, passwords
from xinfang.security.actors import Actor
from xinfang.security.permissions import require

DOCX_MAGIC = b"PK\x03\x04"
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


def list_users(session: Session, *, actor: Actor) -> list[User]:
    require(actor, "user.manage")
    q = select(User).options(selectinload(User.org_unit)).order_by(User.role, User.username)
    return list(session.execute(q).scalars())


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"用户 {username} 不存在", code="user.not_found")
    return user


def reset_password(session: Session, *, actor: Actor, username: str, password: str, now: datetime) -> User:
    """Set a new password (policy checked) and lift a lockout; the password itself is never logged."""
    require(actor, "user.manage")
    passwords.check_policy(password)
    user = _user(session, username)
    user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(
        session,
        actor=actor,
        action="user.reset_password",
        at=now,
        object_type="user",
        object_id=user.id,
        details={"username": username},
    )
    return user


def set_active(session: Session, *, actor: Actor, username: str, active: bool, now: datetime) -> User:
    require(actor, "user.manage")
    user = _user(session, username)
    if actor.user_id == user.id and not active:
        raise InvalidInput("不能停用自己的账户", code="user.self_deactivate")
    user.is_active = active
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        at=now,
        object_type="user",
        object_id=user.id,
        details={"username": username},
    )
    return user


# ---- notice templates -----------------------------------------------------------------------------------------


def _kind(kind: str) -> NoticeKind:
    try:
        return NoticeKind(kind)
    except ValueError as exc:
        raise NotFound(f"未知的文书种类:{kind}", code="notices.unknown_kind") from exc


def current_template(kind: str, template_dir: Path | None) -> Path:
    k = _kind(kind)
    if template_dir is not None and template_path(k, template_dir).is_file():
        return template_path(k, template_dir)
    return template_path(k)


def list_templates(*, actor: Actor, template_dir: Path | None) -> list[dict[str, Any]]:
    require(actor, "user.manage")
    out = []
    for kind in NoticeKind:
        path = current_template(kind.value, template_dir)
        data = path.read_bytes()
        out.append(
            {
                "kind": kind.value,
                "title": NOTICE_TITLES[kind],
                "required": list(REQUIRED[kind]),
                "fields": list(FIELDS[kind]),
                "customised": template_dir is not None and path.parent == Path(template_dir),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return out


def check_template(kind: NoticeKind, data: bytes) -> set[str]:
    """The placeholders of an uploaded template, or InvalidInput saying what is wrong with it."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InvalidInput("模板文件过大(最大 5 MB)", code="notices.template_too_large")
    if not data.startswith(DOCX_MAGIC):
        raise InvalidInput("模板必须是 Word .docx 文件", code="notices.template_not_docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a damaged package
        raise InvalidInput("无法读取该 .docx 文件", code="notices.template_unreadable") from exc
    found = placeholders_in(document)
    missing = [name for name in REQUIRED[kind] if name not in found]
    if missing:
        raise InvalidInput(
            f"{NOTICE_TITLES[kind]}模板缺少法定内容的占位符 {{{{{missing[0]}}}}}",
            code="notices.template_incomplete",
            field=missing[0],
        )
    personal = sorted(found & FORBIDDEN)
    if personal:
        raise InvalidInput(
            f"告知书不得载明身份证号、电话等个人信息({{{{{personal[0]}}}}})",
            code="notices.personal_data_refused",
            field=personal[0],
        )
    unknown = sorted(found - set(FIELDS[kind]))
    if unknown:
        raise InvalidInput(
            f"模板中有未知的占位符 {{{{{unknown[0]}}}}},可用字段:{'、'.join(FIELDS[kind])}",
            code="notices.unknown_placeholder",
            field=unknown[0],
        )
    return found


def replace_template(
    *, session: Session, actor: Actor, kind: str, data: bytes, template_dir: Path, now: datetime
) -> dict[str, Any]:
    require(actor, "user.manage")
    k = _kind(kind)
    found = check_template(k, data)
    template_dir.mkdir(parents=True, exist_ok=True)
    for other in NoticeKind:
        target = template_path(other, template_dir)
        if not target.exists():
            shutil.copyfile(template_path(other), target)
    target = template_path(k, template_dir)
    tmp = target.with_suffix(".docx.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    digest = hashlib.sha256(data).hexdigest()
    audit.record(
        session,
        actor=actor,
        action="notices.replace_template",
        at=now,
        object_type="notice_template",
        object_id=k.value,
        details={"sha256": digest, "size": len(data)},
    )
    return {"kind": k.value, "title": NOTICE_TITLES[k], "placeholders": sorted(found), "sha256": digest}
