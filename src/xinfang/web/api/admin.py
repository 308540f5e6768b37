"""Administration API (permission `user.manage`): accounts and notice templates."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from xinfang.administration import service as admin
from xinfang.cases.enums import Role
from xinfang.org import service as org_service
from xinfang.org.models import User
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import files

router = APIRouter(prefix="/api/admin", tags=["admin"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(..., min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(..., min_length=8, max_length=256)
    role: Role
    unit: str | None = Field(
        None, max_length=32, description="code of the user's unit (required for handlers)"
    )
    display_name: str | None = Field(None, max_length=100)


def user_dict(u: User) -> dict[str, Any]:
    return {
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "unit": u.org_unit.code if u.org_unit else None,
        "unit_name": u.org_unit.name if u.org_unit else None,
        "is_active": u.is_active,
        "locked_until": u.locked_until,
        "created_at": u.created_at,
    }


@router.get("/users")
def list_users(session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [user_dict(u) for u in admin.list_users(session, actor=actor)]


@router.post("/users", status_code=201)
def create_user(data: UserIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    user = org_service.create_user(
        session,
        actor=actor,
        username=data.username,
        password=data.password,
        role=data.role,
        now=runtime.clock.now(),
        display_name=data.display_name,
        org_code=data.unit or None,
    )
    session.commit()
    return user_dict(user)


@router.post("/users/{username}/password")
def reset_password(
    username: str,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    password: Annotated[str, Body(embed=True, min_length=8, max_length=256)],
) -> dict[str, Any]:
    user = admin.reset_password(
        session, actor=actor, username=username, password=password, now=runtime.clock.now()
    )
    session.commit()
    return user_dict(user)


@router.post("/users/{username}/active")
def set_active(
    username: str,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    active: Annotated[bool, Body(embed=True)],
) -> dict[str, Any]:
    user = admin.set_active(session, actor=actor, username=username, active=active, now=runtime.clock.now())
    session.commit()
    return user_dict(user)


@router.get("/notice-templates")
def list_templates(runtime: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Every notice kind: title, required and allowed placeholders, whether the deployment replaced it."""
    return admin.list_templates(actor=actor, template_dir=runtime.notice_templates_dir)


@router.get("/notice-templates/{kind}", response_class=Response, responses=files(DOCX))
def download_template(kind: str, runtime: RuntimeDep, actor: ActorDep) -> Response:
    require(actor, "user.manage")
    path = admin.current_template(kind, runtime.notice_templates_dir)
    return Response(
        path.read_bytes(),
        media_type=DOCX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
    )


@router.put("/notice-templates/{kind}")
async def upload_template(
    kind: str, file: UploadFile, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """Replace a template with an edited .docx; refused (422) if it drops a required placeholder, names an unknown
    one or a personal identifier. Takes effect for the next notice on every instance sharing the template folder."""
    data = await file.read(admin.MAX_TEMPLATE_BYTES + 1)
    result = admin.replace_template(
        session=session,
        actor=actor,
        kind=kind,
        data=data,
        template_dir=runtime.notice_templates_dir,
        now=runtime.clock.now(),
    )
    session.commit()
    return result
