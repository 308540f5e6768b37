"""What each role may do, and which petitions each actor may see. The single place these rules live.

Services call `require` for every write and `scope_petitions` for every read, so the API, the CLI and background jobs
get the same answer; the UI only hides what the service would refuse anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, or_

from xinfang.cases.enums import OrgKind, Role
from xinfang.errors import NotFound, PermissionDenied
from xinfang.security.actors import Actor

R, H, S, L, A = Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN

PERMISSIONS: dict[str, frozenset[Role]] = {
    "petition.create": frozenset({R, H, A}),
    "petition.read": frozenset({R, H, S, L, A}),
    "petition.import": frozenset({R, A}),
    "personal_data.unmask": frozenset({R, H, S, A}),
    "org.read": frozenset({R, H, S, L, A}),
    "user.manage": frozenset({A}),
    "audit.verify": frozenset({S, A}),
    "oversight.read": frozenset({S, L, A}),  # accountability figures, backlog, buck-passing
    "petition.categorize": frozenset({R, H, A}),
    "routing.read": frozenset({R, H, S, L, A}),
    # Editing the responsibility list and deciding suggested keywords (which writes a new rules version).
    "routing.manage": frozenset({A}),
}


def can(actor: Actor, permission: str) -> bool:
    return actor.role in PERMISSIONS[permission]


def require(actor: Actor, permission: str) -> None:
    if not can(actor, permission):
        raise PermissionDenied(
            f"当前角色无权执行此操作({permission})", code="permission.denied", permission=permission
        )


def sees_everything(actor: Actor) -> bool:
    """County-level bureau staff, supervisors and leaders see every petition; departments and townships their own."""
    if actor.is_system:
        return True
    if actor.org_kind == OrgKind.TOWNSHIP:
        return False
    return actor.role in (R, S, L, A)


def scope_petitions(query: Select[Any], actor: Actor) -> Select[Any]:
    """Restrict a query over Petition to what the actor may see.

    Informant protection: a 检举控告 matter is never visible to the unit it accuses, whatever else would allow it.
    """
    from xinfang.cases.models import Petition

    if sees_everything(actor):
        return query
    if actor.org_unit_id is None:
        return query.where(false())
    conditions = [
        Petition.department_id == actor.org_unit_id,
        Petition.reviewing_unit_id == actor.org_unit_id,
    ]
    if actor.township_code:
        conditions.append(Petition.township_code == actor.township_code)
    not_accused = or_(Petition.accused_unit_id.is_(None), Petition.accused_unit_id != actor.org_unit_id)
    return query.where(or_(*conditions), not_accused)


def may_see_petition(actor: Actor, petition: Any) -> bool:
    if sees_everything(actor):
        return True
    if actor.org_unit_id is not None and petition.accused_unit_id == actor.org_unit_id:
        return False
    if actor.org_unit_id is not None and actor.org_unit_id in (
        petition.department_id,
        petition.reviewing_unit_id,
    ):
        return True
    return bool(actor.township_code and petition.township_code == actor.township_code)


def require_petition_visible(actor: Actor, petition: Any) -> None:
    """Answer 'not found' rather than 'forbidden' so that ids of other departments' petitions are not confirmed."""
    if not may_see_petition(actor, petition):
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
