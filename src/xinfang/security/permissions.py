"""What each role may do, and which petitions each actor may see. The single place these rules live.

Services call `require` for every write and `scope_petitions` for every read, so the API, the CLI and background jobs
get the same answer; the UI only hides what the service would refuse anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Select, false, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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
    "org.manage": frozenset({A}),  # importing the county's units and divisions (xinfang org import)
    "user.manage": frozenset({A}),
    "audit.verify": frozenset({S, A}),
    "oversight.read": frozenset({S, L, A}),  # accountability figures, backlog, buck-passing
    "petition.categorize": frozenset({R, H, A}),
    "routing.read": frozenset({R, H, S, L, A}),
    # Editing the responsibility list and deciding suggested keywords (which writes a new rules version).
    "routing.manage": frozenset({A}),
    # Early-warning alerts: analysts (督查), leaders and admins read, acknowledge and resolve them.
    "alert.read": frozenset({S, L, A}),
    "alert.manage": frozenset({S, L, A}),
    # The warning thresholds and the configured push channels (secrets masked): the administrator's page.
    "alert.configure": frozenset({A}),
    # Answering a 督办: staff of the supervised unit (cases.supervision also checks the unit).
    "supervision.respond": frozenset({R, H}),
    # 访调诉 referrals: refer (the roles that may divert), read (scoped like petitions), record by hand and export
    # (contacts included: a hand-over), count; operators see and resend dead-lettered jobs.
    "referral.create": frozenset({R, H}),
    "referral.read": frozenset({R, H, S, L, A}),
    "referral.manage": frozenset({R, H, A}),
    "referral.stats": frozenset({R, S, L, A}),
    "jobs.manage": frozenset({A}),
    # 案件评查: read reviews and figures; run the automatic review (the CLI/jobs act as the system, role admin);
    # draw samples and record verdicts (督查 as the reviewer).
    "review.read": frozenset({S, L, A}),
    "review.run": frozenset({S, A}),
    "review.judge": frozenset({S}),
    # Heat map, hot matters, forecast, monthly report (reads are scoped like petitions).
    "analytics.read": frozenset({R, H, S, L, A}),
    # 重点人员: a sensitive label with personal history; every view is audited.
    "analytics.key_petitioners": frozenset({S, L, A}),
    # Prevention (issue 9): the dispute-screening ledger (townships record, the county reads), its bulk import, the
    # stability risk assessment register, joint handling (the bureau coordinates; co-handlers reply their parts).
    "prevention.read": frozenset({R, H, S, L, A}),
    "prevention.write": frozenset({R, H, A}),
    "prevention.assess": frozenset({R, A}),
    "joint.manage": frozenset({R, H, A}),
    "joint.reply": frozenset({H}),
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
    conditions.append(_granted_access(actor.org_unit_id))
    not_accused = or_(Petition.accused_unit_id.is_(None), Petition.accused_unit_id != actor.org_unit_id)
    return query.where(or_(*conditions), not_accused)


def _granted_access(unit_id: int) -> Any:
    """A unit with an explicit grant (cases.models.PetitionAccess, e.g. a co-handling department) sees the petition."""
    return _GrantedAccess(literal(unit_id))


class _GrantedAccess(FunctionElement[bool]):
    """`petitions.id` is among the petitions granted to a unit, written so that the scope stays indexable.

    The scope is an OR of its arms (own department, reviewing unit, township, grants). PostgreSQL combines indexed
    arms with a BitmapOr, but a correlated EXISTS arm is only a filter, so the whole OR became a scan of every
    petition of the province for each inbox page (seconds at a million rows). On PostgreSQL the grants are
    therefore read once, as an array (an InitPlan), and `id = ANY(array)` is an index condition on the primary
    key; elsewhere (SQLite, one county's file) the plain EXISTS is kept.
    """

    type = Boolean()
    name = "granted_access"
    inherit_cache = True


def _grant_parts(element: _GrantedAccess) -> tuple[Any, Any, Any]:
    from xinfang.cases.models import Petition, PetitionAccess

    (unit,) = list(element.clauses)
    return Petition, PetitionAccess, unit


@compiles(_GrantedAccess)
def _granted_exists(element: _GrantedAccess, compiler: Any, **kw: Any) -> str:
    petition, access, unit = _grant_parts(element)
    grant = select(access.id).where(access.petition_id == petition.id, access.unit_id == unit).exists()
    return str(compiler.process(grant, **kw))


@compiles(_GrantedAccess, "postgresql")
def _granted_any(element: _GrantedAccess, compiler: Any, **kw: Any) -> str:
    petition, access, unit = _grant_parts(element)
    ids = select(access.petition_id).where(access.unit_id == unit).scalar_subquery()
    return f"{compiler.process(petition.id, **kw)} = ANY(ARRAY{compiler.process(ids, **kw)})"


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
    if actor.township_code and petition.township_code == actor.township_code:
        return True
    grants = getattr(petition, "access_grants", None) or ()
    return actor.org_unit_id is not None and any(g.unit_id == actor.org_unit_id for g in grants)


def require_petition_visible(actor: Actor, petition: Any) -> None:
    """Answer 'not found' rather than 'forbidden' so that ids of other departments' petitions are not confirmed."""
    if not may_see_petition(actor, petition):
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
