"""The petition procedure of the 信访工作条例 as one transition table, pure: no database, no clock, no I/O.

    registered / pending_review ─ forward | assign ─▶ forwarded | assigned ─ accept ─▶ accepted ─ extend ─▶ extended
            │                                             │                    └──────── reply ◀─────────┘
            ├─ inform ─▶ informed                         ├─ object ─▶ pending_review (back to the bureau)
            ├─ refuse ─▶ refused                          ├─ refuse / divert
            └─ divert ─▶ diverted                         ▼
    replied ─ request_review ─▶ review_requested ─ review_reply ─▶ review_replied
            ─ request_recheck ─▶ recheck_requested ─ recheck_reply ─▶ recheck_replied (final: 三级终结)
    replied / review_replied / recheck_replied / refused / diverted / informed ─ conclude ─▶ concluded
    registered … extended ─ settle (after a recorded mediation agreement) ─▶ concluded
    evaluate, supervise, take_charge: recorded on the petition, status unchanged.

`TABLE` lists every action once: who may take it, from which statuses, to which status, what its payload must
contain, which written notice it must produce and which statutory clocks (deadlines.Rule) it opens and closes. The
service layer calls `check()` before changing anything; an action the table does not allow raises and changes
nothing. The UI calls `available_actions()` to show only what the current user may do.

Choices where the regulation is silent (documented here because they are policy, not arithmetic):
- Roles. The petition bureau's 登记员 forwards and assigns; 登记员 or a receiving body's 办理员 may inform, refuse or
  divert; only the handling body's 办理员 accepts, objects, extends and replies. 复查/复核 decisions are taken by an
  办理员 *of the reviewing body*: roles carry no organisation, so the service must check that the actor belongs to
  the higher body. The petitioner's review requests and evaluations are recorded by staff (登记员/办理员) on their
  behalf. 督查 supervises, 领导 takes charge. 管理员 runs the system and takes no procedural step (separation of
  duties: the audit trail should show a procedural actor for every legal act).
- An objection (异议) sends the matter back to the bureau as `pending_review` (待人工分派) and reopens the bureau's
  15-day forwarding clock from the objection date; no new status is needed.
- Extension: once only, at most 30 days, with a named approver and a reason, and only before the handling period
  has run out (an extension cannot cure a matter already overdue).
- Review windows are clocks: `reply` opens REVIEW_REQUEST_WINDOW (counted by the service from the day the
  petitioner received the reply), and `request_review` is allowed while that clock is open and not past its date.
  `conclude` leaves the windows open, so a concluded matter can still go to review within 30 days.
- 访调诉: a matter handed to people's mediation keeps its status while its clocks pause (the referral slice
  records the pause). When the mediation succeeds and the result is recorded on the case (event
  `MEDIATION_SUCCEEDED_EVENT`), `settle` (调解结案) concludes it from any status before a written answer; the
  mediation agreement, not a 处理意见书, settles the matter, so no review windows open. Without a recorded
  agreement `settle` is refused (guard `mediation_agreed`), so no one concludes a matter by merely claiming one.
  A failed mediation simply resumes the clocks. A referral to the court is a diversion (`divert`, 诉讼).
- A petitioner's notice may be omitted only where the regulation allows it: acceptance, referral, refusal and
  diversion when the petitioner's name or address is unknown (payload `petitioner_unreachable`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from xinfang.cases.deadlines import STATUTORY, Rule
from xinfang.cases.enums import ROLE_LABELS, STATUS_LABELS, Role, Status
from xinfang.cases.notices import OUTCOMES, NoticeKind
from xinfang.errors import InvalidInput, InvalidTransition, PermissionDenied

MAX_TEXT = 10_000


class Action(StrEnum):
    FORWARD = "forward"
    ASSIGN = "assign"
    INFORM = "inform"
    REFUSE = "refuse"
    DIVERT = "divert"
    ACCEPT = "accept"
    OBJECT = "object"
    EXTEND = "extend"
    REPLY = "reply"
    EVALUATE = "evaluate"
    REQUEST_REVIEW = "request_review"
    REVIEW_REPLY = "review_reply"
    REQUEST_RECHECK = "request_recheck"
    RECHECK_REPLY = "recheck_reply"
    SUPERVISE = "supervise"
    TAKE_CHARGE = "take_charge"
    CONCLUDE = "conclude"
    SETTLE = "settle"  # 调解结案: concluded by a recorded mediation agreement (访调诉)


EVALUATIONS = ("满意", "基本满意", "不满意")
SUPERVISION_LEVELS = ("普通", "黄牌", "红牌")  # graded 督办: each escalates who is told and how soon
LEGAL_CHANNELS = ("诉讼", "仲裁", "行政复议", "行政裁决", "党员申诉", "其他法定途径")
# The event kind that records a successful mediation on the case; its presence is what allows `settle`.
MEDIATION_SUCCEEDED_EVENT = "mediation_succeeded"


@dataclass(frozen=True)
class CaseContext:
    """What the table needs to know about the case beyond its status; the service builds it from stored rows.

    `open_clocks` maps each open clock to its due date (as stored on the open step); `is_repeat_of_final` says the
    petition repeats, with the same facts and reasons, a matter already final after 复核.
    """

    today: date
    open_clocks: Mapping[Rule, date] = field(default_factory=dict)
    has_extension: bool = False
    is_repeat_of_final: bool = False
    has_mediation_agreement: bool = False


@dataclass(frozen=True)
class FieldSpec:
    """One payload field: its type ("text", "int", "date", "bool"), whether required, allowed values or range."""

    name: str
    label: str
    type: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


Guard = Callable[[CaseContext], None]


@dataclass(frozen=True)
class Step:
    """One row of the table."""

    action: Action
    label: str
    roles: frozenset[Role]
    from_statuses: frozenset[Status]
    to_status: Status | None  # None: the status does not change
    fields: tuple[FieldSpec, ...] = ()
    notice: NoticeKind | None = None
    notice_waivable: bool = False  # may be omitted when the petitioner's name or address is unknown
    opens: tuple[Rule, ...] = ()
    closes: tuple[Rule, ...] = ()
    guards: tuple[Guard, ...] = ()

    @property
    def event(self) -> str:
        return f"petition.{self.action.value}"


@dataclass(frozen=True)
class Transition:
    """The outcome of a permitted action: what the service must now do, in one transaction."""

    action: Action
    from_status: Status
    to_status: Status
    event: str
    notice: NoticeKind | None
    opens: tuple[Rule, ...]
    closes: tuple[Rule, ...]
    payload: Mapping[str, Any]
    extension_days: int = 0

    @property
    def changes_status(self) -> bool:
        return self.from_status != self.to_status


# ---- guards: preconditions beyond status and role -------------------------------------------------------------


def not_final(ctx: CaseContext) -> None:
    """三级终结: a matter final after 复核 is not accepted again; the only answer is a 不再受理告知书."""
    if ctx.is_repeat_of_final:
        raise InvalidTransition(
            "该信访事项已经复核终结，同一事实和理由不再受理，应作不予受理处理并出具不再受理告知书",
            code="petition.final_after_re_review",
        )


def window_open(rule: Rule, code: str) -> Guard:
    """The petitioner's request is allowed only while the window clock is open and not past its last day."""

    def guard(ctx: CaseContext) -> None:
        due = ctx.open_clocks.get(rule)
        label = STATUTORY[rule].label
        if due is None:
            raise InvalidTransition(f"当前没有可{label}的处理意见", code=code, rule=rule.value)
        if ctx.today > due:
            raise InvalidTransition(
                f"已超过{label}期限（{STATUTORY[rule].days}日，截至{due.isoformat()}），不予受理",
                code=code,
                rule=rule.value,
                due_on=due.isoformat(),
            )

    guard.__name__ = f"window_open_{rule.value}"
    return guard


def before_due(rule: Rule, code: str) -> Guard:
    """The act must happen within its own period (an objection within 5 working days, an extension in time)."""

    def guard(ctx: CaseContext) -> None:
        due = ctx.open_clocks.get(rule)
        if due is not None and ctx.today > due:
            raise InvalidTransition(
                f"已超过「{STATUTORY[rule].label}」期限（截至{due.isoformat()}）",
                code=code,
                rule=rule.value,
                due_on=due.isoformat(),
            )

    guard.__name__ = f"before_due_{rule.value}"
    return guard


def mediation_agreed(ctx: CaseContext) -> None:
    if not ctx.has_mediation_agreement:
        raise InvalidTransition(
            "尚未记录调解成功的结果，不能调解结案", code="workflow.no_mediation_agreement"
        )


def not_extended_yet(ctx: CaseContext) -> None:
    if ctx.has_extension:
        raise InvalidTransition("办理期限只能延长一次", code="workflow.already_extended")


# ---- the table --------------------------------------------------------------------------------------------------

R, H, S, L = Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.LEADER
INTAKE = frozenset({Status.REGISTERED, Status.PENDING_REVIEW})
RECEIVED = frozenset({Status.FORWARDED, Status.ASSIGNED})
ANSWERED = frozenset({Status.REPLIED, Status.REVIEW_REPLIED, Status.RECHECK_REPLIED})
ALL_STATUSES = frozenset(Status)
PRE_ACCEPT_CLOCKS = (Rule.FORWARD, Rule.RECEIPT_NOTICE, Rule.ACCEPT_NOTICE, Rule.OBJECT)

UNREACHABLE = FieldSpec("petitioner_unreachable", "信访人姓名或地址不详", "bool", required=False)
NOTE = FieldSpec("note", "备注", required=False)


def _answer_fields(*extra: FieldSpec) -> tuple[FieldSpec, ...]:
    """The fields of a written answer (处理/复查/复核意见): the regulation's request, facts, decision, basis."""
    return (
        FieldSpec("outcome", "处理结果", "text", choices=OUTCOMES),
        FieldSpec("facts", "查明的事实"),
        FieldSpec("opinion", "处理意见"),
        FieldSpec("legal_basis", "依据"),
        FieldSpec("request", "信访请求", required=False),
        *extra,
    )


TABLE: Mapping[Action, Step] = {
    step.action: step
    for step in (
        Step(
            action=Action.FORWARD,
            label="转送",
            roles=frozenset({R}),
            from_statuses=INTAKE,
            to_status=Status.FORWARDED,
            fields=(FieldSpec("department", "转送机关"), NOTE),
            opens=(Rule.ACCEPT_NOTICE, Rule.OBJECT),
            closes=(Rule.FORWARD, Rule.RECEIPT_NOTICE),
            guards=(not_final,),
        ),
        Step(
            action=Action.ASSIGN,
            label="交办",
            roles=frozenset({R}),
            from_statuses=INTAKE,
            to_status=Status.ASSIGNED,
            fields=(
                FieldSpec("department", "交办机关"),
                FieldSpec("report_due_on", "报告办理结果期限", "date", required=False),
                NOTE,
            ),
            opens=(Rule.ACCEPT_NOTICE, Rule.OBJECT),
            closes=(Rule.FORWARD, Rule.RECEIPT_NOTICE),
            guards=(not_final,),
        ),
        Step(
            action=Action.INFORM,
            label="告知",
            roles=frozenset({R, H}),
            from_statuses=INTAKE,
            to_status=Status.INFORMED,
            fields=(
                FieldSpec("competent_body", "应向何机关提出"),
                FieldSpec("reason", "理由", required=False),
                UNREACHABLE,
            ),
            notice=NoticeKind.REFERRAL,
            notice_waivable=True,
            closes=(Rule.FORWARD, Rule.RECEIPT_NOTICE),
            guards=(not_final,),
        ),
        Step(
            action=Action.REFUSE,
            label="不予受理",
            roles=frozenset({R, H}),
            from_statuses=INTAKE | RECEIVED,
            to_status=Status.REFUSED,
            fields=(FieldSpec("reason", "不予受理理由"), UNREACHABLE),
            notice=NoticeKind.REFUSAL,
            notice_waivable=True,
            closes=PRE_ACCEPT_CLOCKS,
        ),
        Step(
            action=Action.DIVERT,
            label="导入法定途径",
            roles=frozenset({R, H}),
            from_statuses=INTAKE | RECEIVED,
            to_status=Status.DIVERTED,
            fields=(
                FieldSpec("legal_channel", "法定途径", choices=LEGAL_CHANNELS),
                FieldSpec("competent_body", "受理机关", required=False),
                FieldSpec("reason", "理由", required=False),
                UNREACHABLE,
            ),
            notice=NoticeKind.DIVERSION,
            notice_waivable=True,
            closes=PRE_ACCEPT_CLOCKS,
            guards=(not_final,),
        ),
        Step(
            action=Action.ACCEPT,
            label="受理",
            roles=frozenset({H}),
            from_statuses=RECEIVED | {Status.REGISTERED},
            to_status=Status.ACCEPTED,
            fields=(UNREACHABLE, NOTE),
            notice=NoticeKind.ACCEPTANCE,
            notice_waivable=True,
            opens=(Rule.HANDLE,),
            closes=PRE_ACCEPT_CLOCKS,
            guards=(not_final,),
        ),
        Step(
            action=Action.OBJECT,
            label="提出异议",
            roles=frozenset({H}),
            from_statuses=RECEIVED,
            to_status=Status.PENDING_REVIEW,
            fields=(FieldSpec("reason", "异议理由"),),
            opens=(Rule.FORWARD,),
            closes=(Rule.ACCEPT_NOTICE, Rule.OBJECT),
            guards=(before_due(Rule.OBJECT, "workflow.object_window_closed"),),
        ),
        Step(
            action=Action.EXTEND,
            label="延期办理",
            roles=frozenset({H}),
            from_statuses=frozenset({Status.ACCEPTED}),
            to_status=Status.EXTENDED,
            fields=(
                FieldSpec("approver", "批准人"),
                FieldSpec("reason", "延期理由"),
                FieldSpec("days", "延长天数", "int", minimum=1, maximum=STATUTORY[Rule.EXTEND].days),
            ),
            notice=NoticeKind.EXTENSION,
            opens=(Rule.HANDLE,),
            closes=(Rule.HANDLE,),
            guards=(not_extended_yet, before_due(Rule.HANDLE, "workflow.extend_after_due")),
        ),
        Step(
            action=Action.REPLY,
            label="出具处理意见",
            roles=frozenset({H}),
            from_statuses=frozenset({Status.ACCEPTED, Status.EXTENDED}),
            to_status=Status.REPLIED,
            fields=_answer_fields(),
            notice=NoticeKind.DECISION,
            opens=(Rule.REVIEW_REQUEST_WINDOW,),
            closes=(Rule.HANDLE,),
        ),
        Step(
            action=Action.EVALUATE,
            label="满意度评价",
            roles=frozenset({R, H}),
            from_statuses=ANSWERED | {Status.CONCLUDED},
            to_status=None,
            fields=(
                FieldSpec("evaluation", "评价", choices=EVALUATIONS),
                FieldSpec("comment", "意见", required=False),
            ),
        ),
        Step(
            action=Action.REQUEST_REVIEW,
            label="请求复查",
            roles=frozenset({R, H}),
            from_statuses=frozenset({Status.REPLIED, Status.CONCLUDED}),
            to_status=Status.REVIEW_REQUESTED,
            fields=(
                FieldSpec("reason", "复查请求及理由"),
                FieldSpec("reviewing_body", "复查机关", required=False),
            ),
            opens=(Rule.REVIEW,),
            closes=(Rule.REVIEW_REQUEST_WINDOW,),
            guards=(window_open(Rule.REVIEW_REQUEST_WINDOW, "workflow.review_window_closed"),),
        ),
        Step(
            action=Action.REVIEW_REPLY,
            label="出具复查意见",
            roles=frozenset({H}),
            from_statuses=frozenset({Status.REVIEW_REQUESTED}),
            to_status=Status.REVIEW_REPLIED,
            fields=_answer_fields(),
            notice=NoticeKind.REVIEW_DECISION,
            opens=(Rule.RECHECK_REQUEST_WINDOW,),
            closes=(Rule.REVIEW,),
        ),
        Step(
            action=Action.REQUEST_RECHECK,
            label="请求复核",
            roles=frozenset({R, H}),
            from_statuses=frozenset({Status.REVIEW_REPLIED, Status.CONCLUDED}),
            to_status=Status.RECHECK_REQUESTED,
            fields=(
                FieldSpec("reason", "复核请求及理由"),
                FieldSpec("reviewing_body", "复核机关", required=False),
            ),
            opens=(Rule.RECHECK,),
            closes=(Rule.RECHECK_REQUEST_WINDOW,),
            guards=(window_open(Rule.RECHECK_REQUEST_WINDOW, "workflow.recheck_window_closed"),),
        ),
        Step(
            action=Action.RECHECK_REPLY,
            label="出具复核意见",
            roles=frozenset({H}),
            from_statuses=frozenset({Status.RECHECK_REQUESTED}),
            to_status=Status.RECHECK_REPLIED,
            fields=_answer_fields(
                FieldSpec("hearing_days", "听证用时（日）", "int", required=False, minimum=0, maximum=365)
            ),
            notice=NoticeKind.RECHECK_DECISION,
            closes=(Rule.RECHECK,),
        ),
        Step(
            action=Action.SUPERVISE,
            label="督办",
            roles=frozenset({S}),
            from_statuses=ALL_STATUSES,
            to_status=None,
            fields=(
                FieldSpec("instruction", "督办意见"),
                FieldSpec("level", "督办级别", choices=SUPERVISION_LEVELS, required=False),
                FieldSpec("due_on", "督办期限", "date", required=False),
            ),
        ),
        Step(Action.TAKE_CHARGE, "领导包案", frozenset({L}), ALL_STATUSES, None, fields=(NOTE,)),
        Step(
            action=Action.CONCLUDE,
            label="办结",
            roles=frozenset({R, H}),
            from_statuses=ANSWERED | {Status.REFUSED, Status.DIVERTED, Status.INFORMED},
            to_status=Status.CONCLUDED,
            fields=(NOTE,),
        ),
        Step(
            action=Action.SETTLE,
            label="调解结案",
            roles=frozenset({R, H}),
            from_statuses=INTAKE | RECEIVED | {Status.ACCEPTED, Status.EXTENDED},
            to_status=Status.CONCLUDED,
            fields=(
                FieldSpec("agreement", "调解结果"),
                FieldSpec("mediation_body", "调解组织", required=False),
                NOTE,
            ),
            closes=(*PRE_ACCEPT_CLOCKS, Rule.HANDLE),
            guards=(mediation_agreed,),
        ),
    )
}

# Which clock registration opens: the bureau must forward within 15 days; a body receiving a petition directly must
# tell the petitioner within 15 days.
REGISTRATION_OPENS: Mapping[bool, tuple[Rule, ...]] = {True: (Rule.FORWARD,), False: (Rule.RECEIPT_NOTICE,)}


# ---- the checks -------------------------------------------------------------------------------------------------


def check(
    status: Status | str,
    action: Action | str,
    role: Role | str,
    payload: Mapping[str, Any] | None,
    context: CaseContext,
) -> Transition:
    """Decide whether `role` may take `action` on a petition in `status`; return what must happen, or raise.

    Order: unknown action (422) → role (403) → status (409) → preconditions such as windows (409) → payload (422).
    Raising leaves everything unchanged, since this function changes nothing.
    """
    step = step_for(action)
    current, actor_role = _status(status), _role(role)
    _check_role(step, actor_role)
    _check_status(step, current)
    for guard in step.guards:
        guard(context)
    clean = validate_payload(step, payload or {})
    return Transition(
        action=step.action,
        from_status=current,
        to_status=step.to_status or current,
        event=step.event,
        notice=notice_for(step, context, clean),
        opens=step.opens,
        closes=step.closes,
        payload=clean,
        extension_days=int(clean.get("days", 0)) if step.action is Action.EXTEND else 0,
    )


def available_actions(status: Status | str, role: Role | str, context: CaseContext) -> list[Step]:
    """The steps `role` may take now, in table order (payload aside): what the UI offers as buttons."""
    current, actor_role = _status(status), _role(role)
    return [
        step
        for step in TABLE.values()
        if actor_role in step.roles and current in step.from_statuses and _guards_pass(step, context)
    ]


def notice_for(step: Step, context: CaseContext, payload: Mapping[str, Any]) -> NoticeKind | None:
    """The notice this step must produce: a refusal of a matter final after 复核 is a 不再受理告知书."""
    if step.notice is not None and step.notice_waivable and payload.get("petitioner_unreachable"):
        return None
    if step.action is Action.REFUSE and context.is_repeat_of_final:
        return NoticeKind.FINAL_REFUSAL
    return step.notice


def ensure_notice(transition: Transition, issued: NoticeKind | str | None) -> None:
    """A step that requires a written notice cannot complete without it: call before committing the change."""
    if transition.notice is not None and (issued is None or NoticeKind(issued) is not transition.notice):
        raise InvalidTransition(
            f"「{TABLE[transition.action].label}」须出具书面文书，尚未生成",
            code="workflow.notice_required",
            notice=transition.notice.value,
        )


def repeat_response(*, is_same_matter_as_final: bool) -> NoticeKind | None:
    """How to answer a new petition: a 不再受理告知书 when it repeats a matter final after 复核, else nothing special.

    Deciding *whether* it is the same matter (same facts and reasons) is a human judgement the caller records; this
    only turns that judgement into the lawful response.
    """
    return NoticeKind.FINAL_REFUSAL if is_same_matter_as_final else None


def step_for(action: Action | str) -> Step:
    try:
        return TABLE[Action(action)]
    except ValueError as exc:
        raise InvalidInput(
            f"未知的操作：{action}", code="workflow.unknown_action", action=str(action)
        ) from exc


def validate_payload(step: Step, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check the payload against the step's fields; return the cleaned values (unknown fields are refused)."""
    known = {spec.name: spec for spec in step.fields}
    unknown = sorted(set(payload) - known.keys())
    if unknown:
        raise InvalidInput(
            f"「{step.label}」不接受字段：{unknown[0]}", code="workflow.unknown_field", field=unknown[0]
        )
    clean: dict[str, Any] = {}
    for spec in step.fields:
        value = _clean_value(spec, payload.get(spec.name))
        if value is None:
            if spec.required:
                raise InvalidInput(f"请填写「{spec.label}」", code="workflow.field_required", field=spec.name)
            continue
        clean[spec.name] = value
    return clean


def _clean_value(spec: FieldSpec, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    converters: dict[str, Callable[[FieldSpec, Any], Any]] = {
        "text": _text_value,
        "int": _int_value,
        "date": _date_value,
        "bool": _bool_value,
    }
    return converters[spec.type](spec, raw)


def _text_value(spec: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str) or len(raw) > MAX_TEXT:
        raise _bad_value(spec, f"应为不超过{MAX_TEXT}字的文字")
    value = raw.strip()
    if spec.choices and value not in spec.choices:
        raise InvalidInput(
            f"「{spec.label}」只能是：{'、'.join(spec.choices)}",
            code="workflow.bad_choice",
            field=spec.name,
            choices=list(spec.choices),
        )
    return value


def _int_value(spec: FieldSpec, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _bad_value(spec, "应为整数")
    try:
        value = int(raw)
    except ValueError as exc:
        raise _bad_value(spec, "应为整数") from exc
    if (spec.minimum is not None and value < spec.minimum) or (
        spec.maximum is not None and value > spec.maximum
    ):
        raise _bad_value(spec, f"应在{spec.minimum}至{spec.maximum}之间")
    return value


def _date_value(spec: FieldSpec, raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise _bad_value(spec, "应为 YYYY-MM-DD 格式的日期") from exc


def _bool_value(spec: FieldSpec, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _bad_value(spec, "应为是或否")
    return raw


def _bad_value(spec: FieldSpec, why: str) -> InvalidInput:
    return InvalidInput(f"「{spec.label}」{why}", code="workflow.bad_value", field=spec.name)


def _check_role(step: Step, role: Role) -> None:
    if role not in step.roles:
        allowed = "、".join(ROLE_LABELS[r] for r in Role if r in step.roles)
        raise PermissionDenied(
            f"{ROLE_LABELS[role]}无权执行「{step.label}」（限{allowed}）",
            code="workflow.role_not_permitted",
            action=step.action.value,
            role=role.value,
        )


def _check_status(step: Step, status: Status) -> None:
    if status not in step.from_statuses:
        raise InvalidTransition(
            f"信访件当前状态为「{STATUS_LABELS[status]}」，不能执行「{step.label}」",
            code="workflow.illegal_transition",
            status=status.value,
            action=step.action.value,
        )


def _guards_pass(step: Step, context: CaseContext) -> bool:
    try:
        for guard in step.guards:
            guard(context)
    except InvalidTransition:
        return False
    return True


def _status(status: Status | str) -> Status:
    try:
        return Status(status)
    except ValueError as exc:
        raise InvalidInput(
            f"未知的状态：{status}", code="workflow.unknown_status", status=str(status)
        ) from exc


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise InvalidInput(f"未知的角色：{role}", code="workflow.unknown_role", role=str(role)) from exc
