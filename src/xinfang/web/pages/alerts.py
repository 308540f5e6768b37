"""The alerts page (预警): every early-warning alert with its tier, status, stream, evidence (statistic, baseline,
threshold, p-value or recurrence interval per method), the contributing petitions the reader may open, the trail,
and the acknowledge / resolve forms.

It calls the same alerts service as /api/alerts (same roles: 督查, leaders, admins); forms carry the CSRF field.
/alerts/{id} is the link the push messages carry (alerts.service.message_for).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.alerts import service
from xinfang.alerts.models import Alert
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Petition
from xinfang.errors import InvalidInput, InvalidTransition
from xinfang.org.models import OrgUnit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import FormActorDep, render

router = APIRouter()

TIER_LABELS = {"red": "红色预警", "yellow": "黄色预警"}
STATUS_LABELS = {"open": "待处理", "acknowledged": "已确认", "resolved": "已处置"}
ACTION_LABELS = {
    "opened": "发出预警",
    "updated": "信号持续,更新证据",
    "escalated": "升级为红色预警",
    "acknowledged": "确认",
    "resolved": "处置完毕",
}
DONE_LABELS = {"acknowledge": "预警已确认。", "resolve": "预警已处置完毕。"}
LIST_PETITIONS = 8  # on the list; the alert's own page lists all of them


def _number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _significance(e: dict[str, Any]) -> str:
    parts = []
    if e.get("p_value") is not None:
        p = float(e["p_value"])
        parts.append("p < 0.001" if p < 0.001 else f"p = {p:.3g}")
    if e.get("recurrence_interval_days"):
        parts.append(f"约 {_number(float(e['recurrence_interval_days']), 0)} 天一遇")
    return ",".join(parts) or "—"


def _evidence_rows(alert: Alert, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for method, e in sorted((alert.evidence or {}).items(), key=lambda kv: kv[1].get("tier") != "red"):
        places = [names.get(c, c) for c in e.get("townships") or []]
        rows.append(
            {
                "method": method,
                "label": e.get("label") or service.METHOD_LABELS.get(method, method),
                "tier": e.get("tier"),
                "tier_label": {"red": "红色", "yellow": "黄色"}.get(e.get("tier") or "", "—"),
                "day": e.get("day"),
                "places": "、".join(places) or "全县",
                "window_days": e.get("window_days"),
                "observed": _number(e.get("observed")),
                "baseline": _number(e.get("baseline")),
                "statistic": _number(e.get("statistic"), 3),
                "threshold": _number(e.get("threshold"), 3),
                "significance": _significance(e),
            }
        )
    return rows


def _place(alert: Alert, names: dict[str, str]) -> str:
    """The stream's place: every township the evidence names (a cluster or a matter may span several)."""
    codes = sorted({c for e in (alert.evidence or {}).values() for c in e.get("townships") or []})
    if not codes and alert.township_code:
        codes = [alert.township_code]
    return "、".join(names.get(c, c) for c in codes) or "全县"


def _township_names(session: Session) -> dict[str, str]:
    q = select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == OrgKind.TOWNSHIP)
    return {code: name for code, name in session.execute(q)}


def _visible_petitions(session: Session, actor: Actor, ids: set[int]) -> dict[int, dict[str, Any]]:
    """The contributing petitions this reader may open (scoped like every petition read), by id."""
    out: dict[int, dict[str, Any]] = {}
    todo = sorted(ids)
    for i in range(0, len(todo), 500):
        q = select(Petition.id, Petition.number, Petition.title, Petition.received_at, Petition.status).where(
            Petition.id.in_(todo[i : i + 500])
        )
        for pid, number, title, received_at, status in session.execute(scope_petitions(q, actor)):
            out[pid] = {
                "id": pid,
                "number": number,
                "title": title,
                "received_at": received_at,
                "status": status,
            }
    return out


def _view(
    session: Session, actor: Actor, alerts: list[Alert], *, all_petitions: bool
) -> list[dict[str, Any]]:
    names = _township_names(session)
    wanted: set[int] = set()
    for a in alerts:
        ids = list(a.petition_ids or [])
        wanted.update(ids if all_petitions else ids[-LIST_PETITIONS * 4 :])
    visible = _visible_petitions(session, actor, wanted)
    out = []
    for a in alerts:
        ids = sorted(a.petition_ids or [], reverse=True)  # newest first
        shown = [visible[i] for i in ids if i in visible]
        hidden = len(ids) - len(shown) if all_petitions else 0
        out.append(
            {
                "id": a.id,
                "tier": a.tier,
                "tier_label": TIER_LABELS.get(a.tier, a.tier),
                "status": a.status,
                "status_label": STATUS_LABELS.get(a.status, a.status),
                "title": a.title,
                "place": _place(a, names),
                "category": a.category,
                "methods": [service.METHOD_LABELS.get(m, m) for m in a.methods or []],
                "first_signal_on": a.first_signal_on,
                "last_signal_on": a.last_signal_on,
                "signal_days": a.signal_days,
                "opened_at": a.opened_at,
                "red_at": a.red_at,
                "evidence": _evidence_rows(a, names),
                "petition_count": len(ids),
                "petitions": shown if all_petitions else shown[:LIST_PETITIONS],
                "hidden_petitions": hidden,
                "trail": [
                    {
                        "label": ACTION_LABELS.get(x.action, x.action),
                        "at": x.at,
                        "actor": x.actor_name,
                        "note": x.note,
                    }
                    for x in a.actions
                ],
            }
        )
    return out


def _page(
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    actor: Actor,
    alerts: list[Alert],
    *,
    single: bool,
    status: str | None = None,
    tier: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "alerts.html",
        runtime,
        actor,
        alerts=_view(session, actor, alerts, all_petitions=single),
        single=single,
        filters={"status": status or "", "tier": tier or ""},
        status_labels=STATUS_LABELS,
        tier_labels=TIER_LABELS,
        done=DONE_LABELS.get(request.query_params.get("done") or ""),
        error=error,
        back=_here(request),
    )
    response.status_code = status_code
    return response


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)?$")] = None,
    tier: Annotated[str | None, Query(pattern="^(yellow|red)?$")] = None,
) -> HTMLResponse:
    require(actor, "alert.read")
    alerts = service.list_alerts(session, actor=actor, status=status or None, tier=tier or None, limit=200)
    return _page(request, session, runtime, actor, alerts, single=False, status=status, tier=tier)


@router.get("/alerts/{alert_id}")
def alert_page(
    alert_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> HTMLResponse:
    alert = service.get_alert(session, actor=actor, alert_id=alert_id)
    return _page(request, session, runtime, actor, [alert], single=True)


def _here(request: Request) -> str:
    url = request.url.remove_query_params("done")
    return url.path + (f"?{url.query}" if url.query else "")


def _back(value: Any, alert_id: int) -> str:
    """Return to the page the form was on (the list or the alert), never to another site."""
    if isinstance(value, str) and value.startswith("/alerts") and "//" not in value and "\\" not in value:
        return value
    return f"/alerts/{alert_id}"


async def _act(
    action: str, alert_id: int, request: Request, session: Session, runtime: RuntimeDep, actor: Actor
) -> Response:
    form = await request.form()
    note = form.get("note")
    note = note.strip() if isinstance(note, str) else None
    now = runtime.clock.now()
    try:
        if action == "acknowledge":
            service.acknowledge_alert(session, actor=actor, alert_id=alert_id, now=now, note=note or None)
        else:
            service.resolve_alert(session, actor=actor, alert_id=alert_id, now=now, note=note or "")
        session.commit()
    except (InvalidInput, InvalidTransition) as exc:
        session.rollback()
        alert = service.get_alert(session, actor=actor, alert_id=alert_id)
        return _page(
            request, session, runtime, actor, [alert], single=True, error=exc.message, status_code=400
        )
    back = _back(form.get("back"), alert_id)
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}done={quote(action)}#alert-{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    return await _act("acknowledge", alert_id, request, session, runtime, actor)


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    alert_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    return await _act("resolve", alert_id, request, session, runtime, actor)
