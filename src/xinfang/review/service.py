"""案件评查, database side: review stored cases with `review.rules`, keep the results, and the reviewer workbench.

- `review_concluded` (the CLI `xinfang review run` and any scheduled job call it): every concluded case without a
  review by the current rules version gets one. `review_petition` reviews one case on demand (any status).
- Workbench: `lowest_scoring` per unit and period, `draw_sample` (random plus risk-weighted, reproducible from its
  seed), `record_verdict` (the reviewer's agree/disagree overall and per finding, beside the automatic review), and
  `agreement` (percent agreement and Cohen's kappa by month).
- `unit_quality` gives per-unit mean score and share below the threshold; `merge_quality` adds them to the rows of
  `analytics.accountability.accountability` without changing that module.

Services take keyword-only arguments, an explicit session, actor and `now`, and never commit.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinfang.cases.models import Event, Petition
from xinfang.clock import local_date
from xinfang.errors import InvalidInput, NotFound
from xinfang.review import rules
from xinfang.review.models import CaseReview, ReviewSample, ReviewSampleItem, ReviewVerdict
from xinfang.review.replies import cohen_kappa
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, require_petition_visible, scope_petitions

DECISION_KINDS = ("reply", "review_reply", "recheck_reply")
CONCLUDED = "concluded"
AGREE, DISAGREE = "agree", "disagree"


# ---- building the case view from stored rows ------------------------------------------------------------------


def _reply_text(details: dict[str, Any]) -> str:
    return "\n".join(str(details.get(k) or "") for k in ("facts", "opinion", "legal_basis") if details.get(k))


def repeat_after_conclusion(session: Session, petition: Petition) -> int:
    """Later petitions on the same matter (dispatch's petition_links) received after this one was concluded."""
    if petition.concluded_at is None:
        return 0
    from xinfang.dispatch.models import PetitionLink

    newer = select(Petition.id).where(Petition.received_at > petition.concluded_at)
    return int(
        session.execute(
            select(func.count())
            .select_from(PetitionLink)
            .where(
                PetitionLink.earlier_id == petition.id,
                PetitionLink.kind.in_(("same_matter", "both")),
                PetitionLink.petition_id.in_(newer),
            )
        ).scalar_one()
    )


def case_view(session: Session, petition: Petition, *, today: date) -> rules.CaseView:
    """What the rules read about a stored case. The reply is the latest written decision's structured fields."""
    analysis = petition.analysis or {}
    decisions = [e for e in petition.events if e.kind in DECISION_KINDS]
    latest = decisions[-1].details if decisions else {}
    legal = analysis.get("legal_channel") or {}
    return rules.CaseView(
        id=petition.id,
        title=petition.title,
        body=petition.body,
        demand=((analysis.get("demand") or {}).get("text")) or None,
        reply_text="",
        outcome=latest.get("outcome") or None,
        facts=latest.get("facts"),
        opinion=latest.get("opinion"),
        legal_basis=latest.get("legal_basis"),
        received_on=local_date(petition.received_at),
        replied_on=local_date(decisions[-1].at) if decisions else None,
        status=petition.status,
        formal=True,
        with_procedure=True,
        today=today,
        clocks=[
            rules.ClockView(
                rule=c.rule,
                start_on=c.start_on,
                due_on=c.due_on,
                closed_on=c.closed_on,
                closed_by_action=c.closed_by_action,
                extension_days=c.extension_days,
            )
            for c in petition.clocks
        ],
        events=[
            rules.EventView(kind=e.kind, on=local_date(e.at), details=e.details or {})
            for e in petition.events
        ],
        documents=[rules.DocumentView(kind=d.kind, action=d.action) for d in petition.documents],
        evaluation=petition.evaluation,
        repeat_after_conclusion=repeat_after_conclusion(session, petition),
        review_outcomes=[str(e.details.get("outcome")) for e in decisions if e.details.get("outcome")],
        legal_channel_signal=(legal.get("label") or legal.get("channel"))
        if isinstance(legal, dict)
        else None,
        repeats_final=petition.repeats_final_id is not None,
    )


def build_corpus(session: Session) -> rules.ReplyCorpus:
    """The stored replies (latest written decision of every case) as the boilerplate reference."""
    latest: dict[int, Event] = {}
    for e in session.execute(
        select(Event).where(Event.kind.in_(DECISION_KINDS)).order_by(Event.id)
    ).scalars():
        latest[e.petition_id] = e
    if not latest:
        return rules.default_corpus()
    titles = dict(session.execute(select(Petition.id, Petition.title).where(Petition.id.in_(latest))).all())
    bodies = dict(session.execute(select(Petition.id, Petition.body).where(Petition.id.in_(latest))).all())
    return rules.ReplyCorpus.build(
        (pid, titles.get(pid, ""), bodies.get(pid, ""), _reply_text(e.details or {}))
        for pid, e in latest.items()
    )


# ---- running the review ---------------------------------------------------------------------------------------


def _store(
    session: Session,
    *,
    petition: Petition,
    review: rules.Review,
    actor: Actor,
    now: datetime,
    trigger: str,
) -> CaseReview:
    row = CaseReview(
        petition_id=petition.id,
        rules_version=review.version,
        score=review.score,
        findings=[f.to_dict() for f in review.findings],
        unit_code=petition.department.code if petition.department else None,
        concluded_on=local_date(petition.concluded_at) if petition.concluded_at else None,
        trigger=trigger,
        created_at=now,
        actor_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def review_petition(
    session: Session,
    *,
    actor: Actor,
    petition_id: int,
    now: datetime,
    corpus: rules.ReplyCorpus | None = None,
    trigger: str = "on_demand",
) -> CaseReview:
    """Review one case now (any status) and store the result."""
    require(actor, "review.run")
    petition = session.get(Petition, petition_id)
    if petition is None:
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    require_petition_visible(actor, petition)
    view = case_view(session, petition, today=local_date(now))
    review = rules.review_case(view, corpus=corpus or build_corpus(session))
    row = _store(session, petition=petition, review=review, actor=actor, now=now, trigger=trigger)
    audit.record(
        session,
        actor=actor,
        action="review.case",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"review_id": row.id, "score": row.score, "version": row.rules_version, "trigger": trigger},
    )
    return row


def review_concluded(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    limit: int | None = None,
    corpus: rules.ReplyCorpus | None = None,
) -> dict[str, Any]:
    """Review every concluded case not yet reviewed by the current rules version (at most `limit`); returns counts.
    A caller reviewing in batches passes the `corpus` it built once (reviews do not change the stored replies)."""
    require(actor, "review.run")
    done = select(CaseReview.petition_id).where(CaseReview.rules_version == rules.RULES_VERSION)
    query = scope_petitions(
        select(Petition.id)
        .where(Petition.status == CONCLUDED, Petition.id.not_in(done))
        .order_by(Petition.id),
        actor,
    )
    if limit is not None:
        query = query.limit(limit)
    ids = list(session.execute(query).scalars())
    if corpus is None and ids:
        corpus = build_corpus(session)
    scores = []
    for pid in ids:
        row = review_petition(session, actor=actor, petition_id=pid, now=now, corpus=corpus, trigger="auto")
        scores.append(row.score)
    return {
        "reviewed": len(ids),
        "rules_version": rules.RULES_VERSION,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "below_threshold": sum(s < rules.PASS_THRESHOLD for s in scores),
    }


# ---- reading reviews ------------------------------------------------------------------------------------------


def _latest_ids() -> Any:
    return select(func.max(CaseReview.id)).group_by(CaseReview.petition_id)


def latest_reviews(
    session: Session,
    *,
    actor: Actor,
    start: date | None = None,
    end: date | None = None,
    unit: str | None = None,
) -> list[tuple[CaseReview, Petition]]:
    """The current review of each visible case, concluded in [start, end] (when given), of one unit (when given)."""
    require(actor, "review.read")
    query = select(CaseReview, Petition).join(Petition, Petition.id == CaseReview.petition_id)
    query = query.where(CaseReview.id.in_(_latest_ids()))
    if start is not None:
        query = query.where(CaseReview.concluded_on >= start)
    if end is not None:
        query = query.where(CaseReview.concluded_on <= end)
    if unit:
        query = query.where(CaseReview.unit_code == unit)
    scoped: Select[Any] = scope_petitions(query, actor)  # type: ignore[arg-type]
    return [(row[0], row[1]) for row in session.execute(scoped).all()]


def review_for_petition(session: Session, *, actor: Actor, petition_id: int) -> dict[str, Any]:
    require(actor, "review.read")
    petition = session.get(Petition, petition_id)
    if petition is None:
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    require_petition_visible(actor, petition)
    row = session.execute(
        select(CaseReview)
        .where(CaseReview.petition_id == petition_id)
        .order_by(CaseReview.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("该信访件尚未评查", code="review.not_found")
    verdicts = session.execute(
        select(ReviewVerdict).where(ReviewVerdict.review_id == row.id).order_by(ReviewVerdict.id)
    ).scalars()
    return {**review_dict(row, petition), "verdicts": [verdict_dict(v) for v in verdicts]}


def failed_rules(row: CaseReview) -> list[str]:
    return [f["rule"] for f in row.findings if not f.get("ok")]


def review_dict(row: CaseReview, petition: Petition | None = None) -> dict[str, Any]:
    out = {
        "id": row.id,
        "petition_id": row.petition_id,
        "score": row.score,
        "rules_version": row.rules_version,
        "unit": row.unit_code,
        "concluded_on": row.concluded_on.isoformat() if row.concluded_on else None,
        "trigger": row.trigger,
        "created_at": row.created_at.isoformat(),
        "findings": [{**f, "label": rules.RULE_LABELS.get(f["rule"], f["rule"])} for f in row.findings],
        "failed": failed_rules(row),
    }
    if petition is not None:
        out.update(number=petition.number, title=petition.title, status=petition.status)
    return out


def verdict_dict(v: ReviewVerdict) -> dict[str, Any]:
    return {
        "id": v.id,
        "review_id": v.review_id,
        "petition_id": v.petition_id,
        "sample_id": v.sample_id,
        "overall": v.overall,
        "findings": v.findings,
        "note": v.note,
        "reviewer": v.reviewer.username if v.reviewer else None,
        "created_at": v.created_at.isoformat(),
    }


def lowest_scoring(
    session: Session,
    *,
    actor: Actor,
    start: date,
    end: date,
    unit: str | None = None,
    per_unit: int = 10,
) -> list[dict[str, Any]]:
    """Per unit: the cases concluded in the period with the lowest current scores (worst first)."""
    by_unit: dict[str, list[tuple[CaseReview, Petition]]] = defaultdict(list)
    for r, p in latest_reviews(session, actor=actor, start=start, end=end, unit=unit):
        by_unit[r.unit_code or "-"].append((r, p))
    out = []
    for code in sorted(by_unit):
        items = sorted(by_unit[code], key=lambda rp: (rp[0].score, rp[0].petition_id))
        out.append(
            {
                "unit": code,
                "reviewed": len(items),
                "mean_score": round(sum(r.score for r, _ in items) / len(items), 2),
                "cases": [
                    {
                        "review_id": r.id,
                        "petition_id": p.id,
                        "number": p.number,
                        "score": r.score,
                        "failed": failed_rules(r),
                    }
                    for r, p in items[:per_unit]
                ],
            }
        )
    return out


# ---- sampling for manual review -------------------------------------------------------------------------------


def risk_weight(row: CaseReview, petition: Petition) -> float:
    """How strongly a case should be drawn for manual review: low score, dissatisfied, repeated, overturned."""
    failed = set(failed_rules(row))
    weight = 1.0 + (100 - row.score) / 20
    if petition.evaluation == "不满意" or "outcome.evaluation" in failed:
        weight += 3
    if "outcome.repeat" in failed:
        weight += 3
    if "outcome.review" in failed:
        weight += 3
    return round(weight, 3)


@dataclass(frozen=True)
class Drawn:
    review: CaseReview
    petition: Petition
    reason: str
    weight: float


def draw(
    population: Sequence[tuple[CaseReview, Petition]], *, size: int, random_share: float, seed: int
) -> list[Drawn]:
    """A uniform draw of round(size × random_share) cases, then risk-weighted draws without replacement
    (Efraimidis–Spirakis keys u^(1/w)) for the rest. Same population and seed, same sample."""
    rng = random.Random(seed)
    pool = sorted(population, key=lambda rp: rp[0].petition_id)
    n_random = min(len(pool), round(size * random_share))
    picked_random = rng.sample(range(len(pool)), n_random)
    out = [Drawn(pool[i][0], pool[i][1], "random", risk_weight(*pool[i])) for i in picked_random]
    taken = set(picked_random)
    rest = [(i, risk_weight(*pool[i])) for i in range(len(pool)) if i not in taken]
    keyed = sorted(rest, key=lambda iw: -(rng.random() ** (1 / iw[1])))
    for i, w in keyed[: max(0, size - n_random)]:
        out.append(Drawn(pool[i][0], pool[i][1], "risk", w))
    return out


def draw_sample(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    start: date,
    end: date,
    size: int,
    unit: str | None = None,
    random_share: float = 0.5,
    seed: int | None = None,
) -> ReviewSample:
    require(actor, "review.judge")
    if not 1 <= size <= 500:
        raise InvalidInput("抽样数量应在1至500之间", code="review.bad_size")
    if not 0 <= random_share <= 1:
        raise InvalidInput("随机抽样比例应在0至1之间", code="review.bad_share")
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period.reversed")
    population = latest_reviews(session, actor=actor, start=start, end=end, unit=unit)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    drawn = draw(population, size=size, random_share=random_share, seed=seed)
    sample = ReviewSample(
        period_start=start,
        period_end=end,
        unit_code=unit,
        size=size,
        random_share=random_share,
        seed=seed,
        population=len(population),
        created_at=now,
        created_by_id=actor.user_id,
    )
    sample.items = [
        ReviewSampleItem(
            petition_id=d.petition.id, review_id=d.review.id, reason=d.reason, risk_weight=d.weight
        )
        for d in drawn
    ]
    session.add(sample)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="review.sample",
        at=now,
        object_type="review_sample",
        object_id=sample.id,
        details={"size": len(drawn), "population": len(population), "seed": seed},
    )
    return sample


def sample_dict(session: Session, *, actor: Actor, sample_id: int) -> dict[str, Any]:
    require(actor, "review.read")
    sample = session.get(ReviewSample, sample_id)
    if sample is None:
        raise NotFound("抽样不存在", code="review.sample_not_found")
    reviews = {
        r.id: r
        for r in session.execute(
            select(CaseReview).where(CaseReview.id.in_([i.review_id for i in sample.items]))
        ).scalars()
    }
    judged = set(
        session.execute(select(ReviewVerdict.review_id).where(ReviewVerdict.sample_id == sample.id)).scalars()
    )
    return {
        "id": sample.id,
        "from": sample.period_start.isoformat(),
        "to": sample.period_end.isoformat(),
        "unit": sample.unit_code,
        "size": sample.size,
        "random_share": sample.random_share,
        "seed": sample.seed,
        "population": sample.population,
        "items": [
            {
                "petition_id": i.petition_id,
                "review_id": i.review_id,
                "reason": i.reason,
                "risk_weight": i.risk_weight,
                "score": reviews[i.review_id].score if i.review_id in reviews else None,
                "judged": i.review_id in judged,
            }
            for i in sample.items
        ],
    }


# ---- the reviewer's verdict and agreement ---------------------------------------------------------------------


def record_verdict(
    session: Session,
    *,
    actor: Actor,
    review_id: int,
    overall: str,
    findings: dict[str, str] | None,
    note: str | None,
    now: datetime,
    sample_id: int | None = None,
) -> ReviewVerdict:
    """The reviewer's reading next to the automatic one: agree/disagree overall and per finding (rules not named
    count as agreed), and a note. The automatic review itself is never changed."""
    require(actor, "review.judge")
    row = session.get(CaseReview, review_id)
    if row is None:
        raise NotFound("评查结果不存在", code="review.not_found")
    petition = session.get(Petition, row.petition_id)
    require_petition_visible(actor, petition)
    if overall not in (AGREE, DISAGREE):
        raise InvalidInput("总体意见只能是 agree 或 disagree", code="review.bad_verdict")
    rule_names = {f["rule"] for f in row.findings}
    per_rule = dict(findings or {})
    unknown = sorted(set(per_rule) - rule_names)
    if unknown:
        raise InvalidInput(f"该评查结果没有规则：{unknown[0]}", code="review.unknown_rule", rule=unknown[0])
    if any(v not in (AGREE, DISAGREE) for v in per_rule.values()):
        raise InvalidInput("逐项意见只能是 agree 或 disagree", code="review.bad_verdict")
    if note is not None and len(note) > 2000:
        raise InvalidInput("备注不超过2000字", code="review.note_too_long")
    if sample_id is not None and session.get(ReviewSample, sample_id) is None:
        raise NotFound("抽样不存在", code="review.sample_not_found")
    verdict = ReviewVerdict(
        review_id=row.id,
        petition_id=row.petition_id,
        sample_id=sample_id,
        overall=overall,
        findings={rule: per_rule.get(rule, AGREE) for rule in sorted(rule_names)},
        note=note,
        reviewer_id=actor.user_id,
        created_at=now,
    )
    session.add(verdict)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="review.verdict",
        at=now,
        object_type="case_review",
        object_id=row.id,
        details={
            "overall": overall,
            "disagreed": sorted(r for r, v in verdict.findings.items() if v == DISAGREE),
        },
    )
    return verdict


def agreement_figures(pairs: Iterable[tuple[CaseReview, ReviewVerdict]]) -> dict[str, Any]:
    """Percent agreement and Cohen's kappa, overall (pass = score ≥ threshold) and over the findings (ok)."""
    overall: list[tuple[bool, bool]] = []
    per_finding: list[tuple[bool, bool]] = []
    n = 0
    for row, verdict in pairs:
        n += 1
        auto_pass = row.score >= rules.PASS_THRESHOLD
        overall.append((auto_pass, auto_pass if verdict.overall == AGREE else not auto_pass))
        for f in row.findings:
            judged = verdict.findings.get(f["rule"], AGREE)
            per_finding.append((bool(f["ok"]), bool(f["ok"]) if judged == AGREE else not f["ok"]))

    def pct(items: list[tuple[bool, bool]]) -> float | None:
        return round(sum(a == b for a, b in items) / len(items), 4) if items else None

    return {
        "verdicts": n,
        "overall_agreement": pct(overall),
        "overall_kappa": cohen_kappa(overall),
        "findings": len(per_finding),
        "finding_agreement": pct(per_finding),
        "finding_kappa": cohen_kappa(per_finding),
    }


def agreement(
    session: Session, *, actor: Actor, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Agreement of reviewers with the automatic review, by month of the verdict and in total."""
    require(actor, "review.read")
    query = select(CaseReview, ReviewVerdict).join(ReviewVerdict, ReviewVerdict.review_id == CaseReview.id)
    if start is not None:
        query = query.where(ReviewVerdict.created_at >= start)
    if end is not None:
        query = query.where(ReviewVerdict.created_at < end)
    query = query.join(Petition, Petition.id == CaseReview.petition_id).order_by(ReviewVerdict.id)
    scoped: Select[Any] = scope_petitions(query, actor)  # type: ignore[arg-type]
    pairs = [(row[0], row[1]) for row in session.execute(scoped).all()]
    months: dict[str, list[tuple[CaseReview, ReviewVerdict]]] = defaultdict(list)
    for row, verdict in pairs:
        months[local_date(verdict.created_at).strftime("%Y-%m")].append((row, verdict))
    return {
        "months": [{"month": m, **agreement_figures(months[m])} for m in sorted(months)],
        "total": agreement_figures(pairs),
    }


# ---- per-unit quality figures beside the accountability figures -----------------------------------------------


def unit_quality(
    session: Session,
    *,
    actor: Actor,
    start: date,
    end: date,
    by: str = "department",
    threshold: int = rules.PASS_THRESHOLD,
) -> dict[str, dict[str, Any]]:
    """{unit or township code: reviewed, mean score, share below threshold} over the cases concluded in the period."""
    if by not in ("department", "township"):
        raise InvalidInput("by 只能是 department 或 township", code="review.bad_grouping")
    groups: dict[str, list[int]] = defaultdict(list)
    for r, p in latest_reviews(session, actor=actor, start=start, end=end):
        key = r.unit_code if by == "department" else p.township_code
        if key:
            groups[key].append(r.score)
    return {
        key: {
            "reviewed": len(scores),
            "quality_mean_score": round(sum(scores) / len(scores), 2),
            "quality_below_threshold_rate": round(sum(s < threshold for s in scores) / len(scores), 4),
        }
        for key, scores in groups.items()
    }


QUALITY_COLUMNS = (
    ("reviewed", "评查件数"),
    ("quality_mean_score", "评查平均分"),
    ("quality_below_threshold_rate", "低于及格线比例"),
)
_EMPTY_QUALITY = {"reviewed": 0, "quality_mean_score": None, "quality_below_threshold_rate": None}


def merge_quality(rows: list[dict[str, Any]], quality: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The accountability rows (keyed by `key`) with the quality figures added; the rows are not modified."""
    return [{**row, **quality.get(row["key"], _EMPTY_QUALITY)} for row in rows]
