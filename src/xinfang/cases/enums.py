"""Stable English values for the domain's vocabularies; Chinese labels live beside them for the UI."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    ONLINE = "online"
    LETTER = "letter"
    VISIT = "visit"
    PHONE = "phone"
    HOTLINE = "hotline"
    GRID = "grid"
    ASSIGNED = "assigned"  # 上级交办: handed down by a higher-level bureau, with its own deadline
    SYSTEM = "system"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.ONLINE: "网上",
    Channel.LETTER: "来信",
    Channel.VISIT: "来访",
    Channel.PHONE: "电话",
    Channel.HOTLINE: "12345",
    Channel.GRID: "网格",
    Channel.ASSIGNED: "上级交办",
    Channel.SYSTEM: "其他系统",
}

# Accept the Chinese labels wherever a channel is read from a file or a form.
CHANNEL_BY_LABEL: dict[str, Channel] = {label: ch for ch, label in CHANNEL_LABELS.items()} | {
    "网上信访": Channel.ONLINE,
    "网信": Channel.ONLINE,
    "信件": Channel.LETTER,
    "走访": Channel.VISIT,
    "12345热线": Channel.HOTLINE,
    "热线": Channel.HOTLINE,
}


class Status(StrEnum):
    """Where a petition stands. The lawful-handling issue owns the transitions between them."""

    REGISTERED = "registered"  # 已登记
    PENDING_REVIEW = "pending_review"  # 待人工分派 (dispatch suggestion below the confidence threshold)
    FORWARDED = "forwarded"  # 已转送
    ASSIGNED = "assigned"  # 已交办
    ACCEPTED = "accepted"  # 已受理
    REFUSED = "refused"  # 不予受理
    DIVERTED = "diverted"  # 已导入法定途径
    INFORMED = "informed"  # 已告知
    EXTENDED = "extended"  # 已延期
    REPLIED = "replied"  # 已出具处理意见
    REVIEW_REQUESTED = "review_requested"  # 复查中
    REVIEW_REPLIED = "review_replied"  # 已复查
    RECHECK_REQUESTED = "recheck_requested"  # 复核中
    RECHECK_REPLIED = "recheck_replied"  # 已复核 (final)
    CONCLUDED = "concluded"  # 已办结


STATUS_LABELS: dict[Status, str] = {
    Status.REGISTERED: "已登记",
    Status.PENDING_REVIEW: "待人工分派",
    Status.FORWARDED: "已转送",
    Status.ASSIGNED: "已交办",
    Status.ACCEPTED: "办理中",
    Status.REFUSED: "不予受理",
    Status.DIVERTED: "已导入法定途径",
    Status.INFORMED: "已告知",
    Status.EXTENDED: "延期办理中",
    Status.REPLIED: "已答复",
    Status.REVIEW_REQUESTED: "复查中",
    Status.REVIEW_REPLIED: "已复查",
    Status.RECHECK_REQUESTED: "复核中",
    Status.RECHECK_REPLIED: "已复核(终结)",
    Status.CONCLUDED: "已办结",
}


class OrgKind(StrEnum):
    BUREAU = "bureau"  # the petition bureau itself
    COUNTY = "county"  # the county as a division: its code and name, from the organisation import
    DEPARTMENT = "department"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Role(StrEnum):
    REGISTRAR = "registrar"  # 登记员
    HANDLER = "handler"  # 办理员
    SUPERVISOR = "supervisor"  # 督查
    LEADER = "leader"  # 领导
    ADMIN = "admin"  # 管理员


ROLE_LABELS: dict[Role, str] = {
    Role.REGISTRAR: "登记员",
    Role.HANDLER: "办理员",
    Role.SUPERVISOR: "督查",
    Role.LEADER: "领导",
    Role.ADMIN: "管理员",
}
