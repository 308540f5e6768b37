"""Stand-ins for the two platforms: real HTTP servers on 127.0.0.1 ephemeral ports, in threads.

A FakePlatform implements the contract of docs/integrations/referral-api.yaml and can misbehave on purpose: answer
500 a number of times, answer too late (after having created the referral: the answer is lost, the work is done),
or hold a request until released. It counts creations per idempotency key: "arrives exactly once" means every count
is 1.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from xinfang.referrals import signing

WAIT = 30.0  # the longest any test waits for anything


class FakePlatform:
    def __init__(
        self,
        name: str,
        *,
        secret: str,
        fail_first: int = 0,
        slow_first: int = 0,
        slow_seconds: float = 0.0,
        hold_first: bool = False,
    ) -> None:
        self.name, self.secret = name, secret
        self.fail_left, self.slow_left, self.slow_seconds = fail_first, slow_first, slow_seconds
        self.hold_left = 1 if hold_first else 0
        self.release = threading.Event()
        self.holding = threading.Event()
        self.lock = threading.Lock()
        self.remote_by_key: dict[str, str] = {}
        self.bundles: dict[str, dict[str, Any]] = {}
        self.creations: Counter[str] = Counter()
        self.posts: Counter[str] = Counter()
        self.bad_signatures = 0
        self.statuses: dict[str, dict[str, Any]] = {}
        self.now = time.time  # the clock callbacks are stamped with (tests pass the app's clock)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePlatform:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=WAIT)

    def config(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "endpoint": self.url,
            "hmac_secret": self.secret,
            "callback_secret": self.secret,
            "timeout_seconds": 2.0,
        } | extra

    # ---- the server side --------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _answer(self, code: int, data: dict[str, Any]) -> None:
                body = json.dumps(data, ensure_ascii=False).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout) or died (crash test)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                h = self.headers
                if not signing.is_valid(
                    platform.secret,
                    h.get(signing.TIMESTAMP_HEADER, ""),
                    h.get(signing.NONCE_HEADER, ""),
                    body,
                    h.get(signing.SIGNATURE_HEADER, ""),
                ):
                    platform.bad_signatures += 1
                    self._answer(401, {"error": "bad signature"})
                    return
                key = h.get("Idempotency-Key", "")
                with platform.lock:
                    platform.posts[key] += 1
                    if platform.fail_left > 0:
                        platform.fail_left -= 1
                        fail = True
                    else:
                        fail = False
                    if not fail:
                        known = key in platform.remote_by_key
                        if not known:
                            remote = f"{platform.name}-{len(platform.remote_by_key) + 1}"
                            platform.remote_by_key[key] = remote
                            platform.bundles[key] = json.loads(body)
                            platform.creations[key] += 1
                            platform.statuses[remote] = {"status": "已受理", "event_id": f"{remote}-e0"}
                        remote = platform.remote_by_key[key]
                    slow = platform.slow_left > 0 and not fail
                    if slow:
                        platform.slow_left -= 1
                    hold = platform.hold_left > 0 and not fail
                    if hold:
                        platform.hold_left -= 1
                if fail:
                    self._answer(500, {"error": "internal"})
                    return
                if slow:
                    time.sleep(platform.slow_seconds)
                if hold:
                    platform.holding.set()
                    platform.release.wait(WAIT)
                self._answer(200 if known else 201, {"remote_id": remote})

            def do_GET(self) -> None:
                remote = self.path.rstrip("/").rsplit("/", 1)[-1]
                with platform.lock:
                    state = platform.statuses.get(remote)
                if state is None:
                    self._answer(404, {"error": "unknown"})
                    return
                self._answer(200, {"remote_id": remote, **state})

        return Handler

    # ---- the platform calling us back -------------------------------------------------------------------------

    def callback_request(
        self,
        key: str,
        status: str,
        *,
        event_id: str | None = None,
        outcome: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "reference": key,
                "remote_id": self.remote_by_key.get(key),
                "status": status,
                "event_id": event_id or secrets.token_hex(8),
                "outcome": outcome,
                "occurred_at": "2026-03-05T10:00:00+08:00",
            },
            ensure_ascii=False,
        ).encode()
        ts = int(self.now()) if timestamp is None else timestamp
        headers = signing.sign_headers(secret or self.secret, body, timestamp=ts)
        return body, headers | {"Content-Type": "application/json"}

    def send(self, client: httpx.Client | Any, body: bytes, headers: dict[str, str]) -> Any:
        return client.post(f"/api/referrals/callback/{self.name}", content=body, headers=headers)


def wait_for(predicate: Any, *, timeout: float = WAIT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
