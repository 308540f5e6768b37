"""The procedure's transition table: happy paths, every illegal pair, roles, payloads, windows and finality."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest

from xinfang.cases.calendar import load_calendar
from xinfang.cases.deadlines import STATUTORY, Rule, deadline_for
from xinfang.cases.enums import Role, Status
from xinfang.cases.notices import REQUIRED, NoticeKind, template_path
from xinfang.cases.workflow import (
    TABLE,
    Action,
    CaseContext,
    Transition,
    available_actions,
    check,
    ensure_notice,
    repeat_response,
)
from xinfang.errors import InvalidInput, InvalidTransition, PermissionDenied

CAL = load_calendar()
D = date.fromisoformat
S = Status
R, H, SUP, L, ADMIN = Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN

ANSWER = {
    "outcome": "支持",
    "facts": "经查属实",
    "opinion": "责令三十日内支付",
    "legal_basis": "《劳动合同法》第三十条",
}
VALID_PAYLOAD: dict[Action, dict[str, Any]] = {
    Action.FORWARD: {"department": "rsj"},
    Action.ASSIGN: {"department": "rsj", "report_due_on": "2026-03-20"},
    Action.INFORM: {"competent_body": "县人民法院"},
    Action.REFUSE: {"reason": "不属于信访事项受理范围"},
    Action.DIVERT: {"legal_channel": "仲裁"},
    Action.ACCEPT: {},
    Action.OBJECT: {"reason": "不属于本机关职责"},
    Action.EXTEND: {"approver": "王局长", "reason": "涉及多个部门，情况复杂", "days": 30},
    Action.REPLY: ANSWER,
    Action.EVALUATE: {"evaluation": "满意"},
    Action.REQUEST_REVIEW: {"reason": "对处理意见不服"},
    Action.REVIEW_REPLY: ANSWER,
    Action.REQUEST_RECHECK: {"reason": "对复查意见不服"},
    Action.RECHECK_REPLY: {**ANSWER, "hearing_days": 5},
    Action.SUPERVISE: {"instruction": "请于三日内报告办理进展"},
    Action.TAKE_CHARGE: {},
    Action.CONCLUDE: {},
    Action.SETTLE: {"agreement": "双方达成调解协议"},
}

# The specification, written out independently of the table so that a change to the table has to change this too.
EXPECTED_FROM: dict[Action, set[Status]] = {
    Action.FORWARD: {S.REGISTERED, S.PENDING_REVIEW},
    Action.ASSIGN: {S.REGISTERED, S.PENDING_REVIEW},
    Action.INFORM: {S.REGISTERED, S.PENDING_REVIEW},
    Action.REFUSE: {S.REGISTERED, S.PENDING_REVIEW, S.FORWARDED, S.ASSIGNED},
    Action.DIVERT: {S.REGISTERED, S.PENDING_REVIEW, S.FORWARDED, S.ASSIGNED},
    Action.ACCEPT: {S.REGISTERED, S.FORWARDED, S.ASSIGNED},
    Action.OBJECT: {S.FORWARDED, S.ASSIGNED},
    Action.EXTEND: {S.ACCEPTED},
    Action.REPLY: {S.ACCEPTED, S.EXTENDED},
    Action.EVALUATE: {S.REPLIED, S.REVIEW_REPLIED, S.RECHECK_REPLIED, S.CONCLUDED},
    Action.REQUEST_REVIEW: {S.REPLIED, S.CONCLUDED},
    Action.REVIEW_REPLY: {S.REVIEW_REQUESTED},
    Action.REQUEST_RECHECK: {S.REVIEW_REPLIED, S.CONCLUDED},
    Action.RECHECK_REPLY: {S.RECHECK_REQUESTED},
    Action.SUPERVISE: set(Status),
    Action.TAKE_CHARGE: set(Status),
    Action.CONCLUDE: {S.REPLIED, S.REVIEW_REPLIED, S.RECHECK_REPLIED, S.REFUSED, S.DIVERTED, S.INFORMED},
    Action.SETTLE: {S.REGISTERED, S.PENDING_REVIEW, S.FORWARDED, S.ASSIGNED, S.ACCEPTED, S.EXTENDED},
}
EXPECTED_ROLES: dict[Action, set[Role]] = {
    Action.FORWARD: {R},
    Action.ASSIGN: {R},
    Action.INFORM: {R, H},
    Action.REFUSE: {R, H},
    Action.DIVERT: {R, H},
    Action.ACCEPT: {H},
    Action.OBJECT: {H},
    Action.EXTEND: {H},
    Action.REPLY: {H},
    Action.EVALUATE: {R, H},
    Action.REQUEST_REVIEW: {R, H},
    Action.REVIEW_REPLY: {H},
    Action.REQUEST_RECHECK: {R, H},
    Action.RECHECK_REPLY: {H},
    Action.SUPERVISE: {SUP},
    Action.TAKE_CHARGE: {L},
    Action.CONCLUDE: {R, H},
    Action.SETTLE: {R, H},
}
EXPECTED_NOTICE: dict[Action, NoticeKind | None] = {
    Action.INFORM: NoticeKind.REFERRAL,
    Action.REFUSE: NoticeKind.REFUSAL,
    Action.DIVERT: NoticeKind.DIVERSION,
    Action.ACCEPT: NoticeKind.ACCEPTANCE,
    Action.EXTEND: NoticeKind.EXTENSION,
    Action.REPLY: NoticeKind.DECISION,
    Action.REVIEW_REPLY: NoticeKind.REVIEW_DECISION,
    Action.RECHECK_REPLY: NoticeKind.RECHECK_DECISION,
}

# A context in which every window is open and nothing is overdue: only status and role decide.
OPEN = CaseContext(
    today=D("2026-03-02"), open_clocks={rule: D("2026-12-31") for rule in Rule}, has_mediation_agreement=True
)
# The everyday context: no mediation agreement recorded, so 调解结案 is not on offer.
USUAL = replace(OPEN, has_mediation_agreement=False)


def _role_for(action: Action) -> Role:
    return sorted(EXPECTED_ROLES[action])[0]


# --- a tiny fake of the service layer: applies transitions and keeps clocks, the way the lead will wire it --------


@dataclass
class Case:
    status: Status = S.REGISTERED
    today: date = date(2026, 3, 2)
    clock_starts: dict[Rule, date] = field(default_factory=dict)
    clocks: dict[Rule, date] = field(default_factory=dict)
    has_extension: bool = False
    is_repeat_of_final: bool = False
    events: list[str] = field(default_factory=list)
    notices: list[NoticeKind] = field(default_factory=list)

    def context(self) -> CaseContext:
        return CaseContext(self.today, dict(self.clocks), self.has_extension, self.is_repeat_of_final)

    def do(self, action: Action, role: Role, payload: Mapping[str, Any] | None = None) -> Transition:
        t = check(
            self.status, action, role, VALID_PAYLOAD[action] if payload is None else payload, self.context()
        )
        if t.notice:
            self.notices.append(t.notice)  # a real service renders it here
        ensure_notice(t, t.notice)
        for rule in t.closes:
            self.clocks.pop(rule, None)
        for rule in t.opens:
            start = self.clock_starts[rule] if t.extension_days else self.today
            self.clock_starts[rule] = start
            self.clocks[rule] = deadline_for(rule, start, CAL, extension_days=t.extension_days).due_on
        self.has_extension |= t.action is Action.EXTEND
        self.status = t.to_status
        self.events.append(t.event)
        return t


def test_the_happy_path_from_registration_to_conclusion() -> None:
    case = Case(clocks={Rule.FORWARD: D("2026-03-17")})
    t = case.do(Action.FORWARD, R)
    assert (t.from_status, t.to_status, t.notice) == (S.REGISTERED, S.FORWARDED, None)
    assert case.clocks == {Rule.ACCEPT_NOTICE: D("2026-03-17"), Rule.OBJECT: D("2026-03-09")}

    case.today = D("2026-03-04")
    assert case.do(Action.ACCEPT, H).notice is NoticeKind.ACCEPTANCE
    assert case.clocks == {
        Rule.HANDLE: D("2026-05-06")
    }  # 60 days from 4 March end on 3 May, in the Labour Day break

    case.today = D("2026-04-20")
    t = case.do(Action.EXTEND, H)
    assert (t.to_status, t.notice, t.extension_days) == (S.EXTENDED, NoticeKind.EXTENSION, 30)
    assert case.clocks == {Rule.HANDLE: D("2026-06-02")}  # 90 days from acceptance

    case.today = D("2026-05-25")
    assert case.do(Action.REPLY, H).notice is NoticeKind.DECISION
    assert case.status is S.REPLIED and set(case.clocks) == {Rule.REVIEW_REQUEST_WINDOW}

    assert case.do(Action.EVALUATE, R).to_status is S.REPLIED  # recorded, status unchanged
    case.do(Action.CONCLUDE, H)
    assert case.status is S.CONCLUDED
    assert case.events == [
        "petition.forward",
        "petition.accept",
        "petition.extend",
        "petition.reply",
        "petition.evaluate",
        "petition.conclude",
    ]
    assert case.notices == [NoticeKind.ACCEPTANCE, NoticeKind.EXTENSION, NoticeKind.DECISION]


def test_the_review_and_re_review_path_to_finality() -> None:
    case = Case(status=S.ACCEPTED, clocks={Rule.HANDLE: D("2026-05-01")})
    case.do(Action.REPLY, H)
    case.today = D("2026-03-20")
    case.do(Action.REQUEST_REVIEW, R)
    assert case.status is S.REVIEW_REQUESTED and case.clocks == {
        Rule.REVIEW: D("2026-04-20")
    }  # 19 April: Sunday
    case.today = D("2026-04-10")
    assert case.do(Action.REVIEW_REPLY, H).notice is NoticeKind.REVIEW_DECISION
    assert case.clocks == {Rule.RECHECK_REQUEST_WINDOW: D("2026-05-11")}  # 10 May is a Sunday
    case.today = D("2026-05-06")
    case.do(Action.REQUEST_RECHECK, H)
    assert case.clocks == {Rule.RECHECK: D("2026-06-05")}
    case.today = D("2026-06-01")
    assert case.do(Action.RECHECK_REPLY, H).notice is NoticeKind.RECHECK_DECISION
    assert case.status is S.RECHECK_REPLIED and case.clocks == {}
    case.do(Action.CONCLUDE, R)
    case.do(Action.EVALUATE, H, {"evaluation": "不满意", "comment": "仍有异议"})
    assert case.status is S.CONCLUDED
    with pytest.raises(InvalidTransition):
        case.do(Action.REQUEST_RECHECK, H)  # no second re-review
    with pytest.raises(InvalidTransition):
        case.do(Action.REQUEST_REVIEW, H)


def test_a_concluded_matter_can_still_go_to_review_within_the_window() -> None:
    case = Case(status=S.ACCEPTED)
    case.do(Action.REPLY, H)
    case.do(Action.CONCLUDE, H)
    case.today = D("2026-03-30")
    assert case.do(Action.REQUEST_REVIEW, R).to_status is S.REVIEW_REQUESTED


def test_the_table_matches_the_specification() -> None:
    assert set(TABLE) == set(Action)
    for action, step in TABLE.items():
        assert step.from_statuses == EXPECTED_FROM[action], action
        assert step.roles == EXPECTED_ROLES[action], action
        assert step.notice == EXPECTED_NOTICE.get(action), action
        assert step.label and all("\u4e00" <= ch <= "\u9fff" for ch in step.label), action


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(Status))
def test_every_status_action_pair_is_allowed_exactly_as_specified(status: Status, action: Action) -> None:
    if status in EXPECTED_FROM[action]:
        t = check(status, action, _role_for(action), VALID_PAYLOAD[action], OPEN)
        assert t.from_status is status and t.action is action
        return
    with pytest.raises(InvalidTransition) as err:
        check(status, action, _role_for(action), VALID_PAYLOAD[action], OPEN)
    assert err.value.code == "workflow.illegal_transition"
    assert err.value.http_status == 409
    assert TABLE[action].label in err.value.message


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_roles_outside_the_table_are_refused(action: Action, role: Role) -> None:
    status = sorted(EXPECTED_FROM[action])[0]
    if role in EXPECTED_ROLES[action]:
        check(status, action, role, VALID_PAYLOAD[action], OPEN)
        return
    with pytest.raises(PermissionDenied) as err:
        check(status, action, role, VALID_PAYLOAD[action], OPEN)
    assert err.value.code == "workflow.role_not_permitted" and err.value.http_status == 403
    assert "无权" in err.value.message


def test_supervise_and_take_charge_never_change_status() -> None:
    for status in Status:
        assert check(status, Action.SUPERVISE, SUP, VALID_PAYLOAD[Action.SUPERVISE], OPEN).to_status is status
        assert not check(status, Action.TAKE_CHARGE, L, {}, OPEN).changes_status


# --- payloads ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload", "code", "field_name"),
    [
        (
            Action.REPLY,
            {k: v for k, v in ANSWER.items() if k != "legal_basis"},
            "workflow.field_required",
            "legal_basis",
        ),
        (Action.REPLY, {**ANSWER, "outcome": "部分支持"}, "workflow.bad_choice", "outcome"),
        (Action.REPLY, {**ANSWER, "facts": "   "}, "workflow.field_required", "facts"),
        (
            Action.REPLY,
            {**ANSWER, "petitioner_unreachable": True},
            "workflow.unknown_field",
            "petitioner_unreachable",
        ),
        (Action.REFUSE, {}, "workflow.field_required", "reason"),
        (Action.FORWARD, {"note": "急"}, "workflow.field_required", "department"),
        (Action.FORWARD, {"department": "rsj", "departmnet": "x"}, "workflow.unknown_field", "departmnet"),
        (Action.EXTEND, {"approver": "王局长", "reason": "复杂", "days": 31}, "workflow.bad_value", "days"),
        (Action.EXTEND, {"approver": "王局长", "reason": "复杂", "days": 0}, "workflow.bad_value", "days"),
        (
            Action.EXTEND,
            {"approver": "王局长", "reason": "复杂", "days": "三十"},
            "workflow.bad_value",
            "days",
        ),
        (Action.EXTEND, {"reason": "复杂", "days": 10}, "workflow.field_required", "approver"),
        (Action.EXTEND, {"approver": "王局长", "days": 10}, "workflow.field_required", "reason"),
        (Action.DIVERT, {"legal_channel": "上访"}, "workflow.bad_choice", "legal_channel"),
        (Action.EVALUATE, {"evaluation": "一般"}, "workflow.bad_choice", "evaluation"),
        (
            Action.ASSIGN,
            {"department": "rsj", "report_due_on": "3月20日"},
            "workflow.bad_value",
            "report_due_on",
        ),
        (Action.ACCEPT, {"petitioner_unreachable": "yes"}, "workflow.bad_value", "petitioner_unreachable"),
        (Action.SUPERVISE, {"instruction": 5}, "workflow.bad_value", "instruction"),
    ],
)
def test_payloads_are_validated(action: Action, payload: dict[str, Any], code: str, field_name: str) -> None:
    status = sorted(EXPECTED_FROM[action])[0]
    with pytest.raises(InvalidInput) as err:
        check(status, action, _role_for(action), payload, OPEN)
    assert (err.value.code, err.value.params["field"], err.value.http_status) == (code, field_name, 422)


def test_a_clean_payload_is_returned_typed_and_trimmed() -> None:
    t = check(S.ACCEPTED, Action.EXTEND, H, {"approver": " 王局长 ", "reason": "复杂", "days": "20"}, OPEN)
    assert t.payload == {"approver": "王局长", "reason": "复杂", "days": 20} and t.extension_days == 20
    t = check(S.REGISTERED, Action.ASSIGN, R, {"department": "rsj", "report_due_on": "2026-03-20"}, OPEN)
    assert t.payload["report_due_on"] == D("2026-03-20")


def test_check_changes_nothing_it_is_given() -> None:
    payload = {"approver": " 王局长 ", "reason": "复杂", "days": "20"}
    before = dict(payload)
    check(S.ACCEPTED, Action.EXTEND, H, payload, OPEN)
    with pytest.raises(InvalidTransition):
        check(S.REPLIED, Action.EXTEND, H, payload, OPEN)
    assert payload == before


def test_unknown_action_status_and_role_are_invalid_input() -> None:
    for args, code in (
        (("registered", "approve", "handler"), "workflow.unknown_action"),
        (("archived", "accept", "handler"), "workflow.unknown_status"),
        (("registered", "accept", "clerk"), "workflow.unknown_role"),
    ):
        with pytest.raises(InvalidInput) as err:
            check(*args, {}, OPEN)
        assert err.value.code == code


def test_plain_strings_from_the_database_are_accepted() -> None:
    assert check("forwarded", "accept", "handler", {}, OPEN).to_status is S.ACCEPTED


# --- extension -----------------------------------------------------------------------------------------------------


def test_an_extension_is_granted_only_once() -> None:
    ctx = replace(OPEN, has_extension=True)
    with pytest.raises(InvalidTransition) as err:
        check(S.ACCEPTED, Action.EXTEND, H, VALID_PAYLOAD[Action.EXTEND], ctx)
    assert err.value.code == "workflow.already_extended"
    with pytest.raises(InvalidTransition):
        check(S.EXTENDED, Action.EXTEND, H, VALID_PAYLOAD[Action.EXTEND], OPEN)


def test_an_extension_after_the_handling_period_ran_out_is_refused() -> None:
    ctx = CaseContext(today=D("2026-05-07"), open_clocks={Rule.HANDLE: D("2026-05-06")})
    with pytest.raises(InvalidTransition) as err:
        check(S.ACCEPTED, Action.EXTEND, H, VALID_PAYLOAD[Action.EXTEND], ctx)
    assert err.value.code == "workflow.extend_after_due"
    assert check(
        S.ACCEPTED, Action.EXTEND, H, VALID_PAYLOAD[Action.EXTEND], replace(ctx, today=D("2026-05-06"))
    )


# --- windows -------------------------------------------------------------------------------------------------------


def _reply_served_on(served: date) -> dict[Rule, date]:
    return {Rule.REVIEW_REQUEST_WINDOW: deadline_for(Rule.REVIEW_REQUEST_WINDOW, served, CAL).due_on}


def test_review_can_be_requested_up_to_the_last_day_of_the_30_day_window() -> None:
    clocks = _reply_served_on(D("2026-03-02"))
    assert clocks[Rule.REVIEW_REQUEST_WINDOW] == D("2026-04-01")
    ok = CaseContext(today=D("2026-04-01"), open_clocks=clocks)
    assert check(S.REPLIED, Action.REQUEST_REVIEW, R, VALID_PAYLOAD[Action.REQUEST_REVIEW], ok).opens == (
        Rule.REVIEW,
    )


def test_review_requested_after_30_days_is_refused_with_a_clear_message() -> None:
    late = CaseContext(today=D("2026-04-02"), open_clocks=_reply_served_on(D("2026-03-02")))
    with pytest.raises(InvalidTransition) as err:
        check(S.REPLIED, Action.REQUEST_REVIEW, R, VALID_PAYLOAD[Action.REQUEST_REVIEW], late)
    assert err.value.code == "workflow.review_window_closed"
    assert "30日" in err.value.message and "2026-04-01" in err.value.message


def test_review_needs_a_reply_to_review() -> None:
    with pytest.raises(InvalidTransition) as err:
        check(
            S.CONCLUDED,
            Action.REQUEST_REVIEW,
            R,
            VALID_PAYLOAD[Action.REQUEST_REVIEW],
            CaseContext(D("2026-03-02")),
        )
    assert err.value.code == "workflow.review_window_closed"


def test_re_review_window_is_30_days_from_the_review_reply() -> None:
    due = deadline_for(Rule.RECHECK_REQUEST_WINDOW, D("2026-09-10"), CAL).due_on
    assert due == D("2026-10-10")  # day 30 is a 调休 working Saturday, so the window ends there
    payload = VALID_PAYLOAD[Action.REQUEST_RECHECK]
    ok = CaseContext(today=due, open_clocks={Rule.RECHECK_REQUEST_WINDOW: due})
    assert check(S.REVIEW_REPLIED, Action.REQUEST_RECHECK, H, payload, ok).to_status is S.RECHECK_REQUESTED
    with pytest.raises(InvalidTransition) as err:
        check(S.REVIEW_REPLIED, Action.REQUEST_RECHECK, H, payload, replace(ok, today=D("2026-10-13")))
    assert err.value.code == "workflow.recheck_window_closed"


def test_an_objection_must_come_within_five_working_days() -> None:
    due = deadline_for(Rule.OBJECT, D("2025-09-30"), CAL).due_on  # the regulation's example: 14 October
    ctx = CaseContext(today=D("2025-10-14"), open_clocks={Rule.OBJECT: due})
    t = check(S.FORWARDED, Action.OBJECT, H, VALID_PAYLOAD[Action.OBJECT], ctx)
    assert t.to_status is S.PENDING_REVIEW and t.opens == (Rule.FORWARD,)
    with pytest.raises(InvalidTransition) as err:
        check(
            S.FORWARDED, Action.OBJECT, H, VALID_PAYLOAD[Action.OBJECT], replace(ctx, today=D("2025-10-15"))
        )
    assert err.value.code == "workflow.object_window_closed"


# --- notices and finality ------------------------------------------------------------------------------------------


def test_a_step_that_requires_a_notice_cannot_complete_without_it() -> None:
    t = check(S.FORWARDED, Action.ACCEPT, H, {}, OPEN)
    with pytest.raises(InvalidTransition) as err:
        ensure_notice(t, None)
    assert err.value.code == "workflow.notice_required"
    with pytest.raises(InvalidTransition):
        ensure_notice(t, NoticeKind.REFUSAL)
    ensure_notice(t, "acceptance")
    ensure_notice(check(S.REGISTERED, Action.FORWARD, R, {"department": "rsj"}, OPEN), None)


def test_the_notice_may_be_waived_only_when_the_petitioner_cannot_be_reached() -> None:
    assert check(S.FORWARDED, Action.ACCEPT, H, {"petitioner_unreachable": True}, OPEN).notice is None
    assert (
        check(S.FORWARDED, Action.ACCEPT, H, {"petitioner_unreachable": False}, OPEN).notice
        is NoticeKind.ACCEPTANCE
    )
    assert all(
        not TABLE[a].notice_waivable
        for a in (Action.EXTEND, Action.REPLY, Action.REVIEW_REPLY, Action.RECHECK_REPLY)
    )


def test_a_matter_final_after_re_review_is_not_accepted_again() -> None:
    final = replace(OPEN, is_repeat_of_final=True)
    for status, action in (
        (S.FORWARDED, Action.ACCEPT),
        (S.REGISTERED, Action.FORWARD),
        (S.REGISTERED, Action.DIVERT),
    ):
        with pytest.raises(InvalidTransition) as err:
            check(status, action, _role_for(action), VALID_PAYLOAD[action], final)
        assert err.value.code == "petition.final_after_re_review"
        assert "不再受理" in err.value.message


def test_refusing_a_repeat_of_a_final_matter_issues_the_not_accepted_again_notice() -> None:
    final = replace(OPEN, is_repeat_of_final=True)
    assert (
        check(S.REGISTERED, Action.REFUSE, R, {"reason": "同一事实和理由"}, final).notice
        is NoticeKind.FINAL_REFUSAL
    )
    assert check(S.REGISTERED, Action.REFUSE, R, {"reason": "x"}, OPEN).notice is NoticeKind.REFUSAL
    assert repeat_response(is_same_matter_as_final=True) is NoticeKind.FINAL_REFUSAL
    assert repeat_response(is_same_matter_as_final=False) is None


# --- what the UI shows ---------------------------------------------------------------------------------------------


def _names(status: Status, role: Role, ctx: CaseContext = USUAL) -> list[str]:
    return [step.action.value for step in available_actions(status, role, ctx)]


def test_available_actions_for_each_role() -> None:
    assert _names(S.REGISTERED, R) == ["forward", "assign", "inform", "refuse", "divert"]
    assert _names(S.REGISTERED, H) == ["inform", "refuse", "divert", "accept"]
    assert _names(S.FORWARDED, H) == ["refuse", "divert", "accept", "object"]
    assert _names(S.ACCEPTED, SUP) == ["supervise"]
    assert _names(S.ACCEPTED, L) == ["take_charge"]
    assert _names(S.ACCEPTED, ADMIN) == []
    assert _names(S.REPLIED, R) == ["evaluate", "request_review", "conclude"]


def test_available_actions_hide_what_a_precondition_would_refuse() -> None:
    late = CaseContext(today=D("2026-04-02"), open_clocks=_reply_served_on(D("2026-03-02")))
    assert _names(S.REPLIED, R, late) == ["evaluate", "conclude"]
    assert "extend" not in _names(S.ACCEPTED, H, replace(USUAL, has_extension=True))
    assert "accept" not in _names(S.FORWARDED, H, replace(USUAL, is_repeat_of_final=True))


def test_settling_by_mediation_needs_a_recorded_agreement() -> None:
    with pytest.raises(InvalidTransition) as err:
        check(S.ACCEPTED, Action.SETTLE, H, {"agreement": "达成协议"}, USUAL)
    assert err.value.code == "workflow.no_mediation_agreement"
    t = check(S.ACCEPTED, Action.SETTLE, H, {"agreement": "达成协议"}, OPEN)
    assert t.to_status is S.CONCLUDED and t.notice is None and not t.opens
    assert Rule.HANDLE in t.closes and Rule.FORWARD in t.closes
    assert "settle" in _names(S.FORWARDED, H, OPEN)
    assert "settle" not in _names(S.REPLIED, R, OPEN)


# --- consistency with the other modules ----------------------------------------------------------------------------


def test_every_notice_a_step_can_produce_has_a_template_and_legal_fields() -> None:
    kinds = {step.notice for step in TABLE.values() if step.notice} | {NoticeKind.FINAL_REFUSAL}
    assert kinds == set(NoticeKind)
    for kind in kinds:
        assert template_path(kind).is_file() and REQUIRED[kind]


def test_every_clock_a_body_must_meet_is_closed_by_some_step() -> None:
    opened = {rule for step in TABLE.values() for rule in step.opens}
    closed = {rule for step in TABLE.values() for rule in step.closes}
    duties = {rule for rule in opened if not STATUTORY[rule].binds_petitioner}
    assert duties <= closed
    assert opened | {Rule.RECEIPT_NOTICE, Rule.EXTEND} == set(Rule)  # RECEIPT_NOTICE opens at registration
