"""Each review rule on constructed cases: pure, no database."""

from __future__ import annotations

from datetime import date

from xinfang.review.rules import (
    CaseView,
    ClockView,
    DocumentView,
    EventView,
    ReplyCorpus,
    classify_decision,
    key_points,
    review_case,
    strip_echo,
)

TITLE = "幸福小区物业拖欠电梯维修费"
BODY = "我们幸福小区的电梯已经坏了三个月，物业公司一直拖欠电梯维修费，要求物业公司尽快维修电梯并公开维修基金使用情况。"
GOOD = (
    "经调查核实，幸福小区2号楼电梯于2026年1月5日停运，物业公司已于2026年3月10日完成电梯维修，维修费用1.2万元"
    "从维修基金列支，维修基金使用情况已在小区公示栏公开。依据《物业管理条例》第五十三条，物业公司应当按规定使用维修基金，"
    "你的请求予以支持。"
)


def view(reply: str = GOOD, **kw: object) -> CaseView:
    base: dict[str, object] = {
        "id": 1,
        "title": TITLE,
        "body": BODY,
        "reply_text": reply,
        "received_on": date(2026, 1, 6),
        "replied_on": date(2026, 3, 2),
    }
    return CaseView(**(base | kw))  # type: ignore[arg-type]


def finding(review, rule):  # type: ignore[no-untyped-def]
    f = review.finding(rule)
    assert f is not None, rule
    return f


def test_a_good_reply_passes_every_content_rule() -> None:
    r = review_case(view())
    for rule in (
        "reply.answers_demand",
        "reply.facts",
        "reply.decision",
        "reply.legal_basis",
        "reply.specific",
    ):
        assert finding(r, rule).ok, (rule, finding(r, rule).evidence)
    assert r.score == 100
    assert "电梯" in " ".join(finding(r, "reply.answers_demand").evidence["found"])


def test_a_reply_that_ignores_the_demand_fails_and_names_what_is_missing() -> None:
    reply = "经调查，小区绿化带已于2026年3月1日补种树木，依据《城市绿化条例》第十条处理，予以支持。"
    f = finding(review_case(view(reply)), "reply.answers_demand")
    assert not f.ok
    assert "电梯" in " ".join(f.evidence["missing"]) and f.evidence["coverage"] < 0.4


def test_echoing_the_title_does_not_count_as_answering() -> None:
    reply = f"关于您反映的“{TITLE}”的问题，我们已收悉，感谢您的关心。"
    assert "电梯" not in strip_echo(reply, TITLE)
    assert not finding(review_case(view(reply)), "reply.answers_demand").ok


def test_a_reply_without_a_basis_fails_the_basis_rule() -> None:
    reply = GOOD.split("依据")[0] + "你的请求予以支持。"
    f = finding(review_case(view(reply)), "reply.legal_basis")
    assert not f.ok and f.evidence["level"] == "none"
    generic = finding(review_case(view(reply + "按照相关规定办理。")), "reply.legal_basis")
    assert generic.ok and generic.evidence["level"] == "generic"
    explicit = finding(review_case(view()), "reply.legal_basis")
    assert explicit.evidence["level"] == "explicit" and "第五十三条" in explicit.evidence["references"]


def test_a_platform_name_in_book_title_marks_is_not_a_basis() -> None:
    reply = "您在《问政平台》栏目的留言已收悉，电梯已修好。"
    assert finding(review_case(view(reply)), "reply.legal_basis").evidence["level"] == "none"


def test_a_boilerplate_reply_is_flagged() -> None:
    boiler = "您好，您反映的问题已收悉，我们已转交相关部门处理，请耐心等待。感谢您对我们工作的关心和支持。"
    f = finding(review_case(view(boiler)), "reply.specific")
    assert not f.ok and "near_template" in f.evidence["reasons"]
    r = review_case(view(boiler))
    assert r.score < 40


def test_the_same_reply_to_different_matters_is_a_near_template() -> None:
    reply = "您好，经了解，相关单位正在积极研究，将统筹安排，请您继续关注我们的工作进展，谢谢您的理解和支持。"
    items = [
        (1, TITLE, BODY, reply),
        (2, "学校门口交通拥堵", "每天放学时学校门口严重拥堵，希望增设交警疏导。", reply),
    ]
    corpus = ReplyCorpus.build(items)
    f = finding(review_case(view(reply), corpus=corpus), "reply.specific")
    assert not f.ok and f.evidence["near_duplicates"] >= 1


def test_a_late_reply_and_one_dated_before_the_message_fail_timing() -> None:
    on_time = finding(review_case(view()), "timing.reply_limit")
    assert on_time.ok and on_time.evidence["days"] == 55
    late = finding(review_case(view(replied_on=date(2026, 4, 1))), "timing.reply_limit")
    assert not late.ok and late.evidence["problem"] == "late" and late.evidence["days"] == 85
    before = finding(review_case(view(replied_on=date(2026, 1, 1))), "timing.reply_limit")
    assert not before.ok and before.evidence["problem"] == "reply_before_message"
    missing = finding(review_case(view(replied_on=None)), "timing.reply_limit")
    assert not missing.ok and missing.evidence["problem"] == "date_missing"


def test_decision_in_free_text_and_structured() -> None:
    assert classify_decision("你的请求不予支持。")[0] == "不予支持"
    assert classify_decision("经研究，予以支持。")[0] == "支持"
    assert classify_decision("不符合申请条件，无法办理。")[0] == "不予支持"
    assert classify_decision("现作出解释说明，望您理解。")[0] == "解释说明"
    assert classify_decision("今天天气很好。")[0] is None
    r = review_case(view("电梯问题已收悉。"))
    assert not finding(r, "reply.decision").ok


def test_consistent_and_inconsistent_decisions() -> None:
    ok = review_case(
        view(
            "",
            outcome="支持",
            facts="经查电梯停运属实。",
            opinion="责令物业公司十日内维修电梯。",
            legal_basis="《物业管理条例》",
        )
    )
    assert finding(ok, "reply.consistent").ok
    bad = review_case(
        view(
            "",
            outcome="支持",
            facts="经查电梯停运属实。",
            opinion="该请求不符合规定，不予办理。",
            legal_basis="《物业管理条例》",
        )
    )
    f = finding(bad, "reply.consistent")
    assert not f.ok and f.evidence["conflict"] == "supported_but_text_refuses"
    contradictory = review_case(view("经研究予以支持。但根据规定不予支持。"))
    assert not finding(contradictory, "reply.consistent").ok


def test_key_points_leave_out_person_names_and_long_numbers() -> None:
    points = key_points("张三反映幸福小区电梯问题，电话13912345678", "要求维修406路公交站台")
    joined = " ".join(points)
    assert "张三" not in joined and "1391" not in joined
    assert "电梯" in joined and "406" in joined


def _procedure_case(**kw: object) -> CaseView:
    base: dict[str, object] = {
        "id": 7,
        "title": TITLE,
        "body": BODY,
        "outcome": "支持",
        "facts": "经调查，2号楼电梯于2026年1月5日停运。",
        "opinion": "责令物业公司于十日内维修电梯。",
        "legal_basis": "《物业管理条例》第五十三条",
        "formal": True,
        "with_procedure": True,
        "status": "concluded",
        "today": date(2026, 5, 1),
        "clocks": [
            ClockView("forward", date(2026, 1, 6), date(2026, 1, 21), date(2026, 1, 8), "forward"),
            ClockView("accept_notice", date(2026, 1, 8), date(2026, 1, 23), date(2026, 1, 10), "accept"),
            ClockView("handle", date(2026, 1, 10), date(2026, 3, 11), date(2026, 3, 1), "reply"),
        ],
        "events": [
            EventView("registered", date(2026, 1, 6)),
            EventView("forward", date(2026, 1, 8), {"department": "zjj"}),
            EventView("accept", date(2026, 1, 10)),
            EventView("reply", date(2026, 3, 1), {"outcome": "支持"}),
            EventView("conclude", date(2026, 3, 5)),
        ],
        "documents": [DocumentView("acceptance", "accept"), DocumentView("decision", "reply")],
    }
    return CaseView(**(base | kw))  # type: ignore[arg-type]


def test_procedure_rules_pass_on_a_clean_case() -> None:
    r = review_case(_procedure_case())
    for rule in ("procedure.deadlines", "procedure.notices", "procedure.review_right"):
        assert finding(r, rule).ok, rule
    assert r.finding("timing.reply_limit") is None  # stored cases are judged by their clocks


def test_a_missing_notice_and_a_late_step_are_found() -> None:
    case = _procedure_case(
        documents=[DocumentView("decision", "reply")],
        clocks=[ClockView("handle", date(2026, 1, 10), date(2026, 3, 11), date(2026, 3, 20), "reply")],
    )
    r = review_case(case)
    notices = finding(r, "procedure.notices")
    assert not notices.ok and notices.evidence["missing"][0]["notice"] == "acceptance"
    late = finding(r, "procedure.deadlines")
    assert not late.ok and late.evidence["late"][0] == {
        "rule": "handle",
        "due_on": "2026-03-11",
        "days_late": 9,
    }
    waived = _procedure_case(
        events=[EventView("accept", date(2026, 1, 10), {"petitioner_unreachable": True})], documents=[]
    )
    assert review_case(waived).finding("procedure.notices") is None


def test_extension_needs_approver_and_reason_and_the_review_right_its_notice() -> None:
    events = [EventView("extend", date(2026, 2, 1), {"approver": "", "reason": "需要调查", "days": 30})]
    f = finding(review_case(_procedure_case(events=events, documents=[])), "procedure.extension")
    assert not f.ok and f.evidence["problems"] == ["no_approver"]
    no_notice = _procedure_case(documents=[DocumentView("acceptance", "accept")])
    assert not finding(review_case(no_notice), "procedure.review_right").ok


def test_diversion_and_termination_rules() -> None:
    signal = review_case(_procedure_case(legal_channel_signal="诉讼"))
    assert not finding(signal, "procedure.diversion").ok
    repeat = _procedure_case(repeats_final=True)
    assert not finding(review_case(repeat), "procedure.termination").ok
    refused = _procedure_case(
        repeats_final=True,
        events=[EventView("refuse", date(2026, 1, 8), {"reason": "三级终结"})],
        documents=[DocumentView("final_refusal", "refuse")],
    )
    assert finding(review_case(refused), "procedure.termination").ok
    assert finding(review_case(refused), "procedure.notices").ok


def test_outcome_signals() -> None:
    r = review_case(
        _procedure_case(evaluation="不满意", repeat_after_conclusion=2, review_outcomes=["支持", "不予支持"])
    )
    assert not finding(r, "outcome.evaluation").ok
    assert finding(r, "outcome.repeat").evidence["repeats_after_conclusion"] == 2
    assert finding(r, "outcome.review").evidence["overturned"] is True
    upheld = review_case(_procedure_case(evaluation="满意", review_outcomes=["支持", "支持"]))
    assert finding(upheld, "outcome.review").ok and finding(upheld, "outcome.evaluation").ok
    assert upheld.score > r.score


def test_the_score_is_the_weighted_share_of_passed_findings() -> None:
    r = review_case(view(replied_on=date(2026, 4, 1)))
    total = sum(f.weight for f in r.findings)
    passed = sum(f.weight for f in r.findings if f.ok)
    assert r.score == round(100 * passed / total) and 0 <= r.score < 100
