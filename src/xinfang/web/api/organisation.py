"""The organisation: departments, townships and villages."""

from __future__ import annotations

from fastapi import APIRouter, Query

from xinfang.cases.enums import OrgKind
from xinfang.org import service as org_service
from xinfang.web.deps import ActorDep, SessionDep

router = APIRouter(prefix="/api", tags=["organisation"])


@router.get("/departments")
def list_departments(
    session: SessionDep, actor: ActorDep, kind: list[OrgKind] | None = Query(None)
) -> list[dict[str, object]]:
    """Every unit with `code`, `name`, `kind` (bureau/department/township/village) and `parent` code."""
    units = org_service.list_units(session, actor=actor, kinds=kind)
    return [org_service.unit_to_dict(u) for u in units]
