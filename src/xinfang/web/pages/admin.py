"""Administration (管理): units, users and roles, the responsibility list and keyword library, notice templates,
alert rules. Reads here; edits go through the JSON APIs (admin, routing) from static/js/admin.js."""

from __future__ import annotations

import difflib
from typing import Annotated

import yaml
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from xinfang.administration import service as admin
from xinfang.cases.enums import OrgKind
from xinfang.dispatch import service as dispatch
from xinfang.dispatch.models import RulesVersion
from xinfang.org import second_factor
from xinfang.org.models import OrgUnit
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import render

router = APIRouter()
SECTIONS = {
    "units": "单位与区划",
    "users": "用户与角色",
    "rules": "职责清单与关键词库",
    "templates": "文书模板",
    "alerts": "预警规则与推送",
    "model": "分类模型",
}


def _yaml(content: object) -> str:
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=100)


@router.get("/admin")
def admin_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    section: Annotated[str, Query(pattern="^(units|users|rules|templates|alerts|model)$")] = "units",
    a: Annotated[int | None, Query(ge=1)] = None,
    b: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    require(actor, "user.manage")
    ctx: dict[str, object] = {"section": section, "sections": SECTIONS}
    if section == "units":
        units = list(session.execute(select(OrgUnit).order_by(OrgUnit.kind, OrgUnit.code)).scalars())
        ctx["departments"] = [u for u in units if u.kind in (OrgKind.BUREAU.value, OrgKind.DEPARTMENT.value)]
        ctx["townships"] = [u for u in units if u.kind == OrgKind.TOWNSHIP.value]
        villages: dict[str, list[OrgUnit]] = {}
        for u in units:
            if u.kind == OrgKind.VILLAGE.value:
                villages.setdefault(u.code[:9], []).append(u)
        ctx["villages"] = villages
    elif section == "users":
        ctx["users"] = admin.list_users(session, actor=actor)
        ctx["totp_users"] = second_factor.active_user_ids(session)  # who can be reset (lost phone)
        ctx["units"] = list(
            session.execute(
                select(OrgUnit)
                .where(OrgUnit.kind != OrgKind.VILLAGE.value)
                .order_by(OrgUnit.kind, OrgUnit.code)
            ).scalars()
        )
    elif section == "rules":
        active = dispatch.active_rules(session)
        versions = dispatch.list_rule_versions(session, actor=actor)
        ctx["active_yaml"] = _yaml(active.content)
        ctx["active_number"] = active.version.number if active.version else None
        ctx["versions"] = versions
        ctx["diff"] = _diff(session, versions, a, b, active.content)
        ctx["a"], ctx["b"] = a, b
    elif section == "templates":
        ctx["templates"] = admin.list_templates(actor=actor, template_dir=runtime.notice_templates_dir)
    elif section == "model":  # read-only: training and switching are server commands (xinfang model ...)
        from xinfang.dispatch.engine import model_state
        from xinfang.routing.model_store import status

        ctx["model"] = model_state(runtime.settings.model_dir)
        ctx["previous_model"] = status(runtime.settings.model_dir)["previous"]
        ctx["model_dir"] = runtime.settings.model_dir
    return render(request, "admin.html", runtime, actor, **ctx)


def _diff(
    session: SessionDep, versions: list[RulesVersion], a: int | None, b: int | None, active: object
) -> list[tuple[str, str]] | None:
    """Unified diff (as (kind, line) pairs) of version a → b; a alone compares with the shipped list's predecessor."""
    if a is None and len(versions) < 1:
        return None
    by_number = {v.number: v for v in versions}
    if a is None and b is None:
        return None
    left = by_number[a].content if a in by_number else dispatch.shipped_content()
    right = by_number[b].content if b in by_number else active
    lines = difflib.unified_diff(
        _yaml(left).splitlines(),
        _yaml(right).splitlines(),
        fromfile=f"版本 {a}" if a else "内置",
        tofile=f"版本 {b}" if b else "当前",
        lineterm="",
        n=2,
    )
    out = []
    for line in lines:
        kind = (
            "add"
            if line.startswith("+")
            else "del"
            if line.startswith("-")
            else "hunk"
            if line.startswith("@@")
            else "ctx"
        )
        out.append((kind, line))
    return out
