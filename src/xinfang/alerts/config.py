"""The warning configuration as the administrator reads it: the scan's thresholds (analytics.warning.WarningConfig)
and the push channels configured in settings (`XINFANG_ALERT_CHANNELS`), read-only and in Chinese.

Channel settings hold secrets — robot webhook keys and access tokens in URLs, signing secrets, SMS tokens, SMTP
passwords, header values — and recipients' phone numbers and mail addresses. None of them leave this module in
clear: a URL keeps its scheme, host and path with every query value and any credential replaced by ***, token-like
path segments are masked, secrets are reported only as 已设置, recipients are masked like personal data elsewhere.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from xinfang.alerts.channels import channel_specs
from xinfang.analytics.warning.combine import WarningConfig
from xinfang.security.masking import mask_phone
from xinfang.text.signals import RISK_LABELS

MASK = "***"
TIER_LABELS = {"red": "红色", "yellow": "黄色"}
TYPE_LABELS = {
    "inapp": "站内消息",
    "webhook": "Webhook",
    "wecom": "企业微信",
    "dingtalk": "钉钉",
    "email": "邮件",
    "sms": "短信",
}
METHOD_LABELS = {
    "nb_regression": "负二项回归",
    "nb_cusum": "负二项 CUSUM",
    "scan": "时空扫描统计",
    "matter_rule": "同一事项多人反映",
}
# WarningConfig field -> (group, what it means). Every field has an entry (tests/webui/test_alert_config_api.py).
FIELDS: dict[str, tuple[str, str]] = {
    "window_days": ("基线", "基线窗口(天)"),
    "guard_days": ("基线", "基线与当日之间的间隔(天)"),
    "prior_days": ("基线", "季节性先验的历史长度(天)"),
    "prior_weight": ("基线", "先验权重(相当于天数)"),
    "p_yellow": ("负二项回归", "黄色预警的显著性(p 值)"),
    "p_red": ("负二项回归", "红色预警的显著性(p 值)"),
    "cusum_kappa": ("负二项 CUSUM", "参考值 κ"),
    "cusum_delta": ("负二项 CUSUM", "检测的增幅 δ"),
    "cusum_h_yellow": ("负二项 CUSUM", "黄色预警阈值 h"),
    "cusum_h_red": ("负二项 CUSUM", "红色预警阈值 h"),
    "c2_threshold": ("EARS(仅供参考)", "C2 阈值"),
    "c3_threshold": ("EARS(仅供参考)", "C3 阈值"),
    "scan_replicates": ("时空扫描统计", "蒙特卡洛重复次数"),
    "scan_study_days": ("时空扫描统计", "研究期(天)"),
    "scan_max_window_days": ("时空扫描统计", "最长时间窗(天)"),
    "scan_max_radius_km": ("时空扫描统计", "最大半径(公里;空为乡镇间最大距离的一半)"),
    "scan_min_cases": ("时空扫描统计", "聚集的最少件数"),
    "scan_p_yellow": ("时空扫描统计", "黄色预警的显著性(p 值)"),
    "scan_ri_red_days": ("时空扫描统计", "红色预警的重现间隔(天)"),
    "scan_seed": ("时空扫描统计", "随机数种子(结果可复现)"),
    "scan_min_llr": ("时空扫描统计", "参与模拟的最小对数似然比"),
    "matter_window_days": ("同一事项多人反映", "时间窗(天)"),
    "matter_min_petitioners": ("同一事项多人反映", "最少信访人数"),
    "matter_min_petitions": ("同一事项多人反映", "最少信访件数"),
    "group_visit_min_headcount": ("集体访", "黄色预警的最少人数"),
    "group_visit_red_headcount": ("集体访", "红色预警的最少人数"),
    "risk_red_types": ("风险信号", "红色预警的风险信号"),
    "risk_yellow_types": ("风险信号", "黄色预警的风险信号"),
    "rule_lookback_days": ("规则", "规则回看天数"),
    "merge_gap_days": ("预警合并", "同一情况在此天数内再次出现时更新原预警"),
    "combination": ("预警合并", "参与判断的方法"),
}
RULE_COLUMNS = (("group", "类别"), ("label", "参数"), ("value", "取值"), ("name", "配置项"))
CHANNEL_COLUMNS = (
    ("name", "名称"),
    ("type", "类型"),
    ("tiers", "推送级别"),
    ("target", "地址"),
    ("recipients", "接收人"),
    ("secrets", "密钥"),
)
_TOKENISH = re.compile(r"^[A-Za-z0-9_\-=.~%]{16,}$")


def _value(name: str, value: Any) -> str:
    if value is None:
        return "(自动)"
    if name.startswith("risk_"):
        return "、".join(RISK_LABELS.get(v, v) for v in value)
    if name == "combination":
        return "、".join(METHOD_LABELS.get(v, v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def warning_rules(config: WarningConfig | None = None) -> list[dict[str, str]]:
    """Every threshold of the scan with its group, meaning and value (the values in use: the shipped defaults)."""
    config = config or WarningConfig()
    rows = []
    for f in dataclasses.fields(config):
        group, label = FIELDS.get(f.name, ("其他", f.name))
        rows.append(
            {"group": group, "label": label, "value": _value(f.name, getattr(config, f.name)), "name": f.name}
        )
    return rows


def mask_url(url: str) -> str:
    """scheme://host[:port]/path?k=*** — credentials, query values and token-like path segments masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    netloc = (f"{MASK}@" if parts.username or parts.password else "") + host + (f":{port}" if port else "")
    path = "/".join(MASK if _TOKENISH.match(seg) else seg for seg in parts.path.split("/"))
    query = urlencode([(k, MASK) for k, _v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def mask_recipient(value: str) -> str:
    value = str(value)
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}{MASK}@{domain}"
    return mask_phone(value) or ""


def _secrets(spec: dict[str, Any]) -> list[str]:
    said = []
    for key, label in (("secret", "签名密钥"), ("token", "令牌"), ("password", "口令")):
        if spec.get(key):
            said.append(f"{label}已设置")
    if spec.get("username"):
        said.append("用户名已设置")
    said += [f"请求头 {name} 已设置" for name in sorted(spec.get("headers") or {})]
    return said


def channel_summaries(configured: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The channels alerts are pushed to (in-app first, always on), with every secret and recipient masked."""
    rows = []
    for spec in channel_specs(configured):
        kind = str(spec.get("type", ""))
        if kind == "email" and spec.get("host"):
            target = f"smtp://{spec['host']}:{int(spec.get('port', 25))}" + (
                "(STARTTLS)" if spec.get("starttls") else ""
            )
        elif spec.get("url"):
            target = mask_url(str(spec["url"]))
        else:
            target = ""
        rows.append(
            {
                "name": str(spec.get("name", "")),
                "type": TYPE_LABELS.get(kind, kind),
                "tiers": "、".join(TIER_LABELS.get(t, t) for t in spec.get("tiers", ["red"])),
                "target": target,
                "recipients": "、".join(mask_recipient(r) for r in spec.get("to") or [])
                or ("领导、督查、相关乡镇" if kind == "inapp" else ""),
                "secrets": "、".join(_secrets(spec)),
            }
        )
    return rows
