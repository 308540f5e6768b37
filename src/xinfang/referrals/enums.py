"""The referral vocabulary: platforms, kinds and statuses (stable English values, Chinese labels for the wire/UI)."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    MEDIATION = "mediation"  # 人民调解平台 (judicial bureau)
    COURT = "court"  # 诉讼服务平台 (people's court)


PLATFORM_LABELS = {Platform.MEDIATION: "人民调解平台", Platform.COURT: "法院诉讼服务平台"}


class Kind(StrEnum):
    PRE_LITIGATION_MEDIATION = "诉前调解"
    FILING = "立案"


# People's mediation mediates; the court accepts both pre-litigation mediation and filing.
KINDS_BY_PLATFORM = {
    Platform.MEDIATION: (Kind.PRE_LITIGATION_MEDIATION,),
    Platform.COURT: (Kind.PRE_LITIGATION_MEDIATION, Kind.FILING),
}


class Status(StrEnum):
    PENDING = "pending"  # recorded, waiting for the worker
    MANUAL = "manual"  # no API configured: hand the exported bundle over, record statuses by hand
    SENT = "sent"  # delivered, the platform's id known
    DELIVERY_FAILED = "delivery_failed"  # dead-lettered: retry, or export and hand over
    ACCEPTED = "accepted"
    MEDIATING = "mediating"
    MEDIATED = "mediated"
    MEDIATION_FAILED = "mediation_failed"
    FILED = "filed"
    CONFIRMED = "confirmed"
    RETURNED = "returned"


STATUS_LABELS = {
    Status.PENDING: "待发送",
    Status.MANUAL: "待人工移交",
    Status.SENT: "已送达",
    Status.DELIVERY_FAILED: "发送失败",
    Status.ACCEPTED: "已受理",
    Status.MEDIATING: "调解中",
    Status.MEDIATED: "调解成功",
    Status.MEDIATION_FAILED: "调解失败",
    Status.FILED: "已立案",
    Status.CONFIRMED: "已司法确认",
    Status.RETURNED: "退回",
}
# The statuses a platform reports (callback, polling, or recorded by hand), by their Chinese wire word.
REMOTE_BY_LABEL = {
    STATUS_LABELS[s]: s
    for s in (
        Status.ACCEPTED,
        Status.MEDIATING,
        Status.MEDIATED,
        Status.MEDIATION_FAILED,
        Status.FILED,
        Status.CONFIRMED,
        Status.RETURNED,
    )
}
REMOTE_BY_PLATFORM = {
    Platform.MEDIATION: frozenset(REMOTE_BY_LABEL.values()) - {Status.FILED},
    Platform.COURT: frozenset(REMOTE_BY_LABEL.values()),
}
_ANY_REMOTE = frozenset(REMOTE_BY_LABEL.values())
# Which reported status may follow which: later news never goes back (a late 调解中 after 调解成功 is stale).
NEXT: dict[Status, frozenset[Status]] = {
    Status.PENDING: _ANY_REMOTE,
    Status.MANUAL: _ANY_REMOTE,
    Status.SENT: _ANY_REMOTE,
    Status.DELIVERY_FAILED: _ANY_REMOTE,
    Status.ACCEPTED: _ANY_REMOTE - {Status.ACCEPTED},
    Status.MEDIATING: _ANY_REMOTE - {Status.ACCEPTED, Status.MEDIATING},
    Status.MEDIATED: frozenset({Status.CONFIRMED}),
    Status.MEDIATION_FAILED: frozenset({Status.FILED}),  # the court goes on to file the case
    Status.FILED: frozenset(),
    Status.CONFIRMED: frozenset(),
    Status.RETURNED: frozenset(),
}
FINAL = frozenset(s for s, nxt in NEXT.items() if not nxt)
# Open referrals block a second referral of the same petition.
OPEN = frozenset(Status) - FINAL - {Status.MEDIATION_FAILED}


class Outcome(StrEnum):
    """The result the dashboards count."""

    OPEN = "open"
    RESOLVED = "resolved"  # 调解成功 / 已司法确认
    FILED = "filed"  # 已立案: the matter went to litigation
    FAILED = "failed"  # 调解失败
    RETURNED = "returned"  # 退回


OUTCOME_BY_STATUS = {
    Status.MEDIATED: Outcome.RESOLVED,
    Status.CONFIRMED: Outcome.RESOLVED,
    Status.FILED: Outcome.FILED,
    Status.MEDIATION_FAILED: Outcome.FAILED,
    Status.RETURNED: Outcome.RETURNED,
}


OUTCOME_LABELS = {
    Outcome.OPEN: "进行中",
    Outcome.RESOLVED: "调解成功",
    Outcome.FILED: "已立案",
    Outcome.FAILED: "调解失败",
    Outcome.RETURNED: "退回",
}
