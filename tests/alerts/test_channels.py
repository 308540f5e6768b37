"""Push channels against real local servers (threads with sockets): webhook, WeCom, DingTalk (signature), SMS,
e-mail, in-app; retries with back-off until a flaky receiver accepts, and the message arrives exactly once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from tests.alerts.conftest import add_petition
from tests.alerts.test_alerts_service import CFG, DAY
from xinfang.alerts.models import Alert, AlertDelivery
from xinfang.alerts.service import deliver_pending, run_warning_scan
from xinfang.cases.models import Notification
from xinfang.runtime import Runtime

SECRET = "SEC-test-secret"
PETITIONER = "测试人甲乙"  # must never appear in a pushed message


@dataclass
class Receiver:
    """Records every request; answers 500 to the first `failures` of them."""

    failures: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            req = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
            state.requests.append(req)
            if len(state.requests) <= state.failures:
                self.send_response(500)
                self.end_headers()
                return
            state.accepted.append(req)
            payload = b'{"errcode": 0, "errmsg": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def red_alert(seeded: Runtime) -> int:
    with seeded.session() as s:
        add_petition(s, day=DAY, channel="visit", headcount=30, petitioners=["a1", "a2"])
        p = add_petition(s, day=DAY, channel="visit", headcount=None, petitioners=["a3"])
        p.petitioners[0].name = PETITIONER
    with seeded.session() as s:
        run_warning_scan(s, now=seeded.clock.now(), config=CFG, channels=[])
    with seeded.session() as s:
        return s.execute(select(Alert.id).where(Alert.tier == "red")).scalars().one()


def _deliver(rt: Runtime, channels: list[dict[str, Any]], after: timedelta = timedelta()) -> Any:
    with rt.session() as s:
        return deliver_pending(s, now=rt.clock.now() + after, channels=channels, base_delay_seconds=60)


def _enqueue(rt: Runtime, alert_id: int, channels: list[dict[str, Any]]) -> None:
    from xinfang.alerts.channels import channel_specs
    from xinfang.alerts.service import _enqueue as enqueue

    with rt.session() as s:
        enqueue(s, s.get(Alert, alert_id), channel_specs(channels), rt.clock.now())


def test_a_flaky_receiver_gets_the_message_exactly_once_after_back_off(
    seeded: Runtime, red_alert: int, receiver: Receiver
) -> None:
    receiver.failures = 2
    channels = [{"name": "hook", "type": "webhook", "url": receiver.url, "tiers": ["red"]}]
    _enqueue(seeded, red_alert, channels)
    assert _deliver(seeded, channels).retried == 1
    assert _deliver(seeded, channels, timedelta(seconds=30)).retried == 0  # back-off: not due yet
    assert _deliver(seeded, channels, timedelta(seconds=61)).retried == 1
    assert _deliver(seeded, channels, timedelta(seconds=61 + 119)).sent == 0  # the second wait is 120 s
    assert _deliver(seeded, channels, timedelta(seconds=61 + 121)).sent == 1
    assert _deliver(seeded, channels, timedelta(days=1)).sent == 0  # idempotent: nothing left
    assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
    body = receiver.accepted[0]["json"]
    assert (
        body["alert_id"] == red_alert
        and body["tier"] == "red"
        and body["link"].endswith(f"/alerts/{red_alert}")
    )
    assert PETITIONER not in json.dumps(body, ensure_ascii=False)
    with seeded.session() as s:
        d = s.execute(select(AlertDelivery).where(AlertDelivery.channel == "hook")).scalar_one()
        assert (d.status, d.attempts) == ("sent", 3)


def test_a_receiver_that_never_accepts_leaves_a_failed_delivery(
    seeded: Runtime, red_alert: int, receiver: Receiver
) -> None:
    receiver.failures = 100
    channels = [{"name": "hook", "type": "webhook", "url": receiver.url}]
    _enqueue(seeded, red_alert, channels)
    for k in range(8):
        _deliver(seeded, channels, timedelta(hours=k * 3))
    with seeded.session() as s:
        d = s.execute(select(AlertDelivery).where(AlertDelivery.channel == "hook")).scalar_one()
        assert (d.status, d.attempts) == ("failed", 6) and "HTTP 500" in (d.last_error or "")


def test_wecom_gets_its_markdown_message(seeded: Runtime, red_alert: int, receiver: Receiver) -> None:
    channels = [{"name": "wecom", "type": "wecom", "url": receiver.url}]
    _enqueue(seeded, red_alert, channels)
    assert _deliver(seeded, channels).sent == 2  # the channel and the built-in in-app one
    body = receiver.accepted[0]["json"]
    assert body["msgtype"] == "markdown" and "红色预警" in body["markdown"]["content"]
    assert PETITIONER not in body["markdown"]["content"]


def test_dingtalk_gets_a_signed_markdown_message(seeded: Runtime, red_alert: int, receiver: Receiver) -> None:
    channels = [
        {"name": "ding", "type": "dingtalk", "url": receiver.url + "?access_token=abc", "secret": SECRET}
    ]
    _enqueue(seeded, red_alert, channels)
    assert _deliver(seeded, channels).sent == 2  # the channel and the built-in in-app one
    req = receiver.accepted[0]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(req["path"]).query)
    timestamp = query["timestamp"][0]
    assert int(timestamp) == int(seeded.clock.now().timestamp() * 1000)
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"][0] == expected and query["access_token"] == ["abc"]
    assert req["json"]["msgtype"] == "markdown"
    assert (
        set(req["json"]["markdown"]) == {"title", "text"} and "红色预警" in req["json"]["markdown"]["title"]
    )


def test_the_sms_gateway_gets_a_short_text(seeded: Runtime, red_alert: int, receiver: Receiver) -> None:
    channels = [{"name": "sms", "type": "sms", "url": receiver.url, "to": ["13800000000"], "token": "t0k"}]
    _enqueue(seeded, red_alert, channels)
    assert _deliver(seeded, channels).sent == 2  # the channel and the built-in in-app one
    req = receiver.accepted[0]
    assert req["json"]["to"] == ["13800000000"] and req["headers"]["Authorization"] == "Bearer t0k"
    assert "红色预警" in req["json"]["text"] and PETITIONER not in req["json"]["text"]


class _SmtpStub(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    messages: ClassVar[list[bytes]] = []

    def handle(self) -> None:
        self.wfile.write(b"220 stub ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ")[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 stub\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.messages.append(data)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_email_goes_through_smtp(seeded: Runtime, red_alert: int) -> None:
    import email

    _SmtpStub.messages = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        channels = [
            {
                "name": "mail",
                "type": "email",
                "host": "127.0.0.1",
                "port": server.server_address[1],
                "sender": "xfj@example.test",
                "to": ["leader@example.test"],
            }
        ]
        _enqueue(seeded, red_alert, channels)
        assert _deliver(seeded, channels).sent == 2  # the channel and the built-in in-app one
    finally:
        server.shutdown()
        server.server_close()
    [raw] = _SmtpStub.messages
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert "红色预警" in str(mail["Subject"]) and mail["To"] == "leader@example.test"
    text = mail.get_content()
    assert f"/alerts/{red_alert}" in text and PETITIONER not in text


def test_in_app_notifies_the_leaders_and_the_township(seeded: Runtime, red_alert: int) -> None:
    assert _deliver(seeded, []).sent == 1  # the built-in in-app channel was enqueued by the scan
    assert _deliver(seeded, []).sent == 0
    with seeded.session() as s:
        rows = s.execute(select(Notification).where(Notification.kind == "alert_red")).scalars().all()
        targets = {(n.user_id is not None, n.unit_id is not None) for n in rows}
        assert targets == {(True, False), (False, True)} and len(rows) == 2  # one leader, one township
        assert all(PETITIONER not in n.message for n in rows)
