"""Adapters to the two platforms behind one interface, configured per deployment (Settings.referral_platforms).

The JSON/HTTP contract (docs/integrations/referral-api.yaml):

- `POST {endpoint}/referrals` with the bundle as JSON, header `Idempotency-Key`, signed (see `signing`) and/or with a
  bearer token. The platform answers 201 with `{"remote_id": ...}` for a new referral, and 200 with the *same*
  `remote_id` when it has already seen the key: a retry never creates a second referral there.
- `GET {endpoint}/referrals/{remote_id}` answers `{"remote_id", "status", "event_id", "outcome"}` (polling fallback).

Errors: a timeout, a connection failure, 408, 429 and 5xx are retryable (`IntegrationError(retryable=True)`); any
other 4xx is the bundle's or the configuration's fault and goes straight to the dead-letter queue.
`field_map` renames our bundle's fields into the platform's (dotted paths for nested fields, applied to the
top-level object and to every party); `status_map` translates the platform's status words into ours.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from xinfang.config import ReferralPlatformConfig
from xinfang.errors import IntegrationError
from xinfang.referrals import signing


@dataclass(frozen=True)
class RemoteStatus:
    remote_id: str
    status: str  # the Chinese status word (已受理 ...), after status_map
    event_id: str | None = None
    outcome: str | None = None


class Adapter(Protocol):
    def send(self, bundle: dict[str, Any], idempotency_key: str) -> str: ...

    def status(self, remote_id: str) -> RemoteStatus: ...


def map_fields(data: dict[str, Any], field_map: dict[str, str]) -> dict[str, Any]:
    """Rename our fields into the platform's: `{"matter.title": "caseTitle"}` moves data["matter"]["title"] to
    data["caseTitle"]; `{"parties.*.name": "xm"}` renames `name` inside every party. Unmapped fields stay."""
    out = json.loads(json.dumps(data))  # a deep copy of plain JSON
    for src, dst in field_map.items():
        parts = src.split(".")
        if len(parts) == 3 and parts[1] == "*":
            for item in out.get(parts[0]) or []:
                if isinstance(item, dict) and parts[2] in item:
                    item[dst] = item.pop(parts[2])
            continue
        holder: Any = out
        for part in parts[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and parts[-1] in holder:
            out[dst] = holder.pop(parts[-1])
    return out


class HttpAdapter:
    """The adapter for any platform that speaks the project's contract (with its own field names).

    Standard library HTTP (urllib): the product's runtime needs no HTTP client package. `timeout_seconds` bounds each
    socket operation (connect, each read); the job lease bounds the whole attempt.
    """

    def __init__(self, key: str, config: ReferralPlatformConfig, *, now: Callable[[], datetime]) -> None:
        if not config.endpoint:
            raise IntegrationError(
                f"平台 {key} 未配置接口地址,只能人工移交", code="referral.not_configured", retryable=False
            )
        self.key, self.config, self.now = key, config, now
        self.base = config.endpoint.rstrip("/")

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        if self.config.hmac_secret:
            headers |= signing.sign_headers(
                self.config.hmac_secret, body, timestamp=int(self.now().timestamp())
            )
        return headers

    def _request(self, method: str, path: str, body: bytes, extra: dict[str, str]) -> bytes:
        request = urllib.request.Request(
            self.base + path,
            data=body if method == "POST" else None,
            method=method,
            headers=self._headers(body) | extra,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            status = exc.code
        except TimeoutError as exc:
            raise IntegrationError(
                f"平台 {self.key} 响应超时", code="referral.timeout", platform=self.key
            ) from exc
        except urllib.error.URLError as exc:
            timeout = isinstance(exc.reason, TimeoutError | socket.timeout)
            raise IntegrationError(
                f"平台 {self.key} 响应超时" if timeout else f"无法连接平台 {self.key}",
                code="referral.timeout" if timeout else "referral.unreachable",
                platform=self.key,
            ) from exc
        except (OSError, http.client.HTTPException) as exc:  # reset, closed mid-answer
            raise IntegrationError(
                f"无法连接平台 {self.key}", code="referral.unreachable", platform=self.key
            ) from exc
        if status >= 500 or status in (408, 429):
            raise IntegrationError(
                f"平台 {self.key} 暂时不可用(HTTP {status})", code="referral.remote_unavailable", http=status
            )
        raise IntegrationError(
            f"平台 {self.key} 拒绝了请求(HTTP {status})",
            code="referral.remote_rejected",
            retryable=False,
            http=status,
        )

    def _json(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise IntegrationError(f"平台 {self.key} 的应答不是 JSON", code="referral.bad_answer") from exc
        if not isinstance(data, dict) or not data.get("remote_id"):
            raise IntegrationError(f"平台 {self.key} 的应答缺少 remote_id", code="referral.bad_answer")
        return data

    def send(self, bundle: dict[str, Any], idempotency_key: str) -> str:
        body = json.dumps(map_fields(bundle, self.config.field_map), ensure_ascii=False).encode("utf-8")
        raw = self._request("POST", "/referrals", body, {"Idempotency-Key": idempotency_key})
        return str(self._json(raw)["remote_id"])[:100]

    def status(self, remote_id: str) -> RemoteStatus:
        raw = self._request("GET", f"/referrals/{urllib.parse.quote(remote_id, safe='')}", b"", {})
        data = self._json(raw)
        word = str(data.get("status") or "")
        return RemoteStatus(
            remote_id=str(data["remote_id"]),
            status=self.config.status_map.get(word, word),
            event_id=str(data["event_id"])[:100] if data.get("event_id") else None,
            outcome=str(data["outcome"])[:500] if data.get("outcome") else None,
        )


AdapterFactory = Callable[[str], Adapter]


def adapter_factory(
    platforms: dict[str, ReferralPlatformConfig], *, now: Callable[[], datetime]
) -> AdapterFactory:
    """Build adapters on demand from the deployment's settings (a registry built at start-up, not at import)."""

    def build(key: str) -> Adapter:
        config = platforms.get(key)
        if config is None:
            raise IntegrationError(f"未配置平台 {key}", code="referral.not_configured", retryable=False)
        return HttpAdapter(key, config, now=now)

    return build
