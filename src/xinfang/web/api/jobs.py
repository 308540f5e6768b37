"""The operator's view of background jobs: list (e.g. the dead-letter queue) and resend a dead job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from xinfang.security import audit
from xinfang.security.permissions import require
from xinfang.store import jobs
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("")
def list_jobs(
    session: SessionDep,
    actor: ActorDep,
    state: Annotated[str | None, Query(pattern="^(pending|running|done|dead)$")] = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    require(actor, "jobs.manage")
    rows = jobs.list_jobs(session, state=state, kind=kind, limit=limit)
    return {"counts": jobs.counts(session), "jobs": [jobs.job_view(j) for j in rows]}


@router.post("/{job_id}/retry")
def retry_job(job_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    require(actor, "jobs.manage")
    now = runtime.clock.now()
    job = jobs.retry(session, job_id=job_id, now=now)
    audit.record(session, actor=actor, action="job.retry", at=now, object_type="job", object_id=job.id)
    session.commit()
    return jobs.job_view(job)
