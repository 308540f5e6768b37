"""Who is acting: the identity services check permissions against (a user, or the system itself for jobs)."""

from __future__ import annotations

from dataclasses import dataclass

from xinfang.cases.enums import OrgKind, Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    role: Role
    org_unit_id: int | None = None
    org_code: str | None = None
    org_kind: OrgKind | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def township_code(self) -> str | None:
        """The township this actor is confined to, if they work for a township government."""
        return self.org_code if self.org_kind == OrgKind.TOWNSHIP else None


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)


def actor_for(user: object) -> Actor:
    """Build an Actor from an org.models.User (kept duck-typed so this module needs no ORM import)."""
    org = getattr(user, "org_unit", None)
    return Actor(
        user_id=user.id,  # type: ignore[attr-defined]
        username=user.username,  # type: ignore[attr-defined]
        role=Role(user.role),  # type: ignore[attr-defined]
        org_unit_id=org.id if org else None,
        org_code=org.code if org else None,
        org_kind=OrgKind(org.kind) if org else None,
    )
