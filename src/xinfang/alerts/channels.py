"""Push channels: one small protocol, one registry, and the built-in channels registered like any other.

A deployment lists its channels in settings (`XINFANG_ALERT_CHANNELS`, a JSON list); each entry has a `name`
(unique, used in the delivery table), a `type` (a registry key) and `tiers` (which alert tiers it carries),
plus the options of its type:

    [{"name": "inapp", "type": "inapp", "tiers": ["yellow", "red"]},                       # always present
     {"name": "leaders-wecom", "type": "wecom", "url": "https://.../webhook/send?key=...", "tiers": ["red"]},
     {"name": "duty-dingtalk", "type": "dingtalk", "url": "https://.../robot/send?access_token=...",
      "secret": "SEC...", "tiers": ["red"]},
     {"name": "ops-webhook", "type": "webhook", "url": "http://10.0.0.5/hooks/xinfang", "headers": {}},
     {"name": "mail", "type": "email", "host": "smtp.example.gov", "port": 25, "sender": "xfj@example.gov",
      "to": ["leader@example.gov"], "starttls": false, "username": null, "password": null},
     {"name": "sms", "type": "sms", "url": "http://sms-gw/send", "to": ["13800000000"], "token": "..."}]

Messages carry counts, place, category, the alert id and a link only — never a petitioner's name, number or
petition text. A channel raises IntegrationError(retryable=...) when delivery fails; the outbox retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import Role
from xinfang.cases.models import Notification
from xinfang.errors import IntegrationError, InvalidInput
from xinfang.org.models import OrgUnit, User


@dataclass(frozen=True)
class AlertMessage:
    """What every channel renders: no personal data by construction (built from the alert's aggregates)."""

    alert_id: int
    delivery_id: int
    tier: str  # yellow | red
    title: str  # e.g. 【红色预警】古镛镇·劳动和社会保障信访量异常
    lines: tuple[str, ...]  # 地点, 类别, 依据 (counts, statistic, baseline), 涉及件数
    link: str
    township_code: str | None = None

    @property
    def text(self) -> str:
        return "\n".join([self.title, *self.lines, f"查看:{self.link}"])

    def markdown(self) -> str:
        return "\n".join(
            [f"### {self.title}", *(f"- {line}" for line in self.lines), f"\n[查看预警]({self.link})"]
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "delivery_id": self.delivery_id,
            "tier": self.tier,
            "title": self.title,
            "lines": list(self.lines),
            "link": self.link,
        }


@dataclass
class DeliveryContext:
    session: Session
    now: datetime


class Channel(Protocol):
    """A push channel. `send` returns on success and raises IntegrationError otherwise."""

    name: str

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None: ...


ChannelFactory = Callable[[dict[str, Any]], Channel]


@dataclass
class ChannelRegistry:
    """type name → factory(options) -> Channel. Built with `default_registry()` inside the app or CLI, never at
    import; a deployment may register its own types the same way the built-ins are registered."""

    factories: dict[str, ChannelFactory] = field(default_factory=dict)

    def register(self, type_name: str, factory: ChannelFactory) -> None:
        if type_name in self.factories:
            raise ValueError(f"channel type {type_name!r} registered twice")
        self.factories[type_name] = factory

    def build(self, spec: dict[str, Any]) -> Channel:
        factory = self.factories.get(spec.get("type", ""))
        if factory is None:
            raise InvalidInput(
                f"未知的推送渠道类型 {spec.get('type')!r}",
                code="alerts.channel_type",
                known=sorted(self.factories),
            )
        return factory(spec)


INAPP = {"name": "inapp", "type": "inapp", "tiers": ["yellow", "red"]}


def channel_specs(configured: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The in-app channel always, then the deployment's channels (names must be unique)."""
    specs = [INAPP] + [s for s in configured if s.get("name") != "inapp"]
    names = [s.get("name") for s in specs]
    if len(set(names)) != len(names) or not all(names):
        raise InvalidInput("推送渠道名称必须唯一且非空", code="alerts.channel_names")
    return specs


def default_registry() -> ChannelRegistry:
    registry = ChannelRegistry()
    registry.register("inapp", InAppChannel.from_spec)
    registry.register("webhook", WebhookChannel.from_spec)
    registry.register("wecom", WeComChannel.from_spec)
    registry.register("dingtalk", DingTalkChannel.from_spec)
    registry.register("email", EmailChannel.from_spec)
    registry.register("sms", SmsChannel.from_spec)
    return registry


# ---- in-app ---------------------------------------------------------------------------------------------


@dataclass
class InAppChannel:
    """Notification rows: red to every leader and to the responsible unit (the township government), yellow
    to the analysts (督查). Idempotent through the notification's unique dedup key."""

    name: str = "inapp"

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> InAppChannel:
        return cls(name=spec.get("name", "inapp"))

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        session = ctx.session
        roles = [Role.LEADER.value] if message.tier == "red" else [Role.SUPERVISOR.value]
        users = session.execute(select(User.id).where(User.role.in_(roles), User.is_active)).scalars().all()
        targets: list[tuple[str, int | None, int | None]] = [(f"u{u}", u, None) for u in users]
        if message.tier == "red" and message.township_code:
            unit = session.execute(
                select(OrgUnit.id).where(OrgUnit.code == message.township_code)
            ).scalar_one_or_none()
            if unit is not None:
                targets.append((f"o{unit}", None, unit))
        existing = set(
            session.execute(
                select(Notification.dedup_key).where(
                    Notification.dedup_key.like(f"alert:{message.alert_id}:{message.tier}:%")
                )
            ).scalars()
        )
        for suffix, user_id, unit_id in targets:
            key = f"alert:{message.alert_id}:{message.tier}:{suffix}"
            if key in existing:
                continue
            session.add(
                Notification(
                    user_id=user_id,
                    unit_id=unit_id,
                    kind=f"alert_{message.tier}",
                    message=(message.title + " " + ";".join(message.lines))[:500],
                    dedup_key=key,
                    created_at=ctx.now,
                )
            )
        session.flush()


# ---- HTTP -----------------------------------------------------------------------------------------------


def post_json(
    url: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> Any:
    """POST JSON; 2xx returns the decoded body (or None). 5xx/429/network errors are retryable, other 4xx not.
    Robot APIs answer 200 with a non-zero `errcode` on failure: that is an error too."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        retryable = exc.code >= 500 or exc.code == 429
        raise IntegrationError(
            f"推送失败:HTTP {exc.code}", code="alerts.push_http", retryable=retryable
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise IntegrationError(f"推送失败:{type(exc).__name__}", code="alerts.push_network") from None
    try:
        decoded = json.loads(body) if body else None
    except ValueError:
        return None
    if isinstance(decoded, dict) and decoded.get("errcode") not in (None, 0):
        raise IntegrationError(
            f"推送被拒绝:errcode {decoded.get('errcode')}", code="alerts.push_rejected", retryable=True
        )
    return decoded


def _delivery_headers(message: AlertMessage) -> dict[str, str]:
    # Lets a receiver drop a repeat when a worker died between sending and recording the send.
    return {"X-Xinfang-Delivery": str(message.delivery_id), "X-Xinfang-Alert": str(message.alert_id)}


@dataclass
class WebhookChannel:
    """Generic JSON: the message's fields as one object."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> WebhookChannel:
        return cls(spec["name"], spec["url"], dict(spec.get("headers") or {}), float(spec.get("timeout", 10)))

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        post_json(
            self.url,
            message.as_json(),
            headers={**self.headers, **_delivery_headers(message)},
            timeout=self.timeout,
        )


@dataclass
class WeComChannel:
    """企业微信群机器人: {"msgtype": "markdown", "markdown": {"content": ...}}."""

    name: str
    url: str
    timeout: float = 10.0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> WeComChannel:
        return cls(spec["name"], spec["url"], float(spec.get("timeout", 10)))

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        payload = {"msgtype": "markdown", "markdown": {"content": message.markdown()}}
        post_json(self.url, payload, headers=_delivery_headers(message), timeout=self.timeout)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


@dataclass
class DingTalkChannel:
    """钉钉群机器人: {"msgtype": "markdown", "markdown": {"title", "text"}}, signed with timestamp + sign when a
    secret is configured (the robot's 加签 security setting)."""

    name: str
    url: str
    secret: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> DingTalkChannel:
        return cls(spec["name"], spec["url"], spec.get("secret"), float(spec.get("timeout", 10)))

    def signed_url(self, now: datetime) -> str:
        if not self.secret:
            return self.url
        timestamp = int(now.timestamp() * 1000)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}timestamp={timestamp}&sign={dingtalk_sign(self.secret, timestamp)}"

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        payload = {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown()}}
        post_json(self.signed_url(ctx.now), payload, headers=_delivery_headers(message), timeout=self.timeout)


@dataclass
class SmsChannel:
    """An SMS gateway over HTTP: POST {"to": [...], "text": ..., "id": ...} with an optional bearer token."""

    name: str
    url: str
    to: list[str]
    token: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> SmsChannel:
        return cls(
            spec["name"],
            spec["url"],
            list(spec.get("to") or []),
            spec.get("token"),
            float(spec.get("timeout", 10)),
        )

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        headers = _delivery_headers(message) | (
            {"Authorization": f"Bearer {self.token}"} if self.token else {}
        )
        text = f"{message.title}({message.lines[0] if message.lines else ''})详情:{message.link}"
        post_json(
            self.url,
            {"to": self.to, "text": text, "id": f"xinfang-{message.delivery_id}"},
            headers=headers,
            timeout=self.timeout,
        )


# ---- e-mail ---------------------------------------------------------------------------------------------


@dataclass
class EmailChannel:
    name: str
    host: str
    port: int
    sender: str
    to: list[str]
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> EmailChannel:
        return cls(
            spec["name"],
            spec["host"],
            int(spec.get("port", 25)),
            spec["sender"],
            list(spec.get("to") or []),
            bool(spec.get("starttls", False)),
            spec.get("username"),
            spec.get("password"),
            float(spec.get("timeout", 10)),
        )

    def send(self, message: AlertMessage, ctx: DeliveryContext) -> None:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["X-Xinfang-Delivery"] = str(message.delivery_id)
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise IntegrationError(
                f"邮件发送失败:SMTP {exc.smtp_code}", code="alerts.push_smtp", retryable=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise IntegrationError(f"邮件发送失败:{type(exc).__name__}", code="alerts.push_smtp") from None
