"""A ceiling on the size of request bodies, so that a 10 MB JSON body is refused before it is read into memory.

JSON and form bodies are small in this system (a petition's text is capped at 20,000 characters), so they get a
tight limit (`Settings.max_request_bytes`, 2 MB by default); multipart uploads (scanned letters, photos, XLSX
ledgers, notice templates) get the upload limit plus room for the multipart framing. A body announced larger than
the limit by its Content-Length is refused at once, unread; a body without one (chunked) is counted as it arrives
and refused as soon as it passes the limit. Either way the answer is 413 with the usual error envelope
(`{"detail": {"code", "message"}}`) and a Chinese message, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_OVERHEAD = 1024 * 1024
CODE = "request.too_large"


def _message(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"请求内容过大(上限 {limit / (1024 * 1024):.0f} MB)"
    return f"请求内容过大(上限 {max(1, limit // 1024)} KB)"


def error_detail(limit: int) -> dict[str, Any]:
    return {"code": CODE, "message": _message(limit), "params": {"limit_bytes": limit}}


class RequestTooLarge(HTTPException):
    """Raised from `receive` while the body streams in; an HTTPException so FastAPI passes it through unchanged
    (other errors while reading a body become a generic 400) and the app's handler renders it as JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=error_detail(limit))


class BodySizeLimit:
    """Pure ASGI middleware (no buffering of its own): it only counts the bytes the app asks for."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_multipart_bytes = max_upload_bytes + MULTIPART_OVERHEAD

    def limit_for(self, scope: Scope) -> int:
        content_type = _header(scope, b"content-type") or b""
        if content_type.lower().startswith(b"multipart/form-data"):
            return self.max_multipart_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            await _refuse(limit, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


async def _refuse(limit: int, send: Send) -> None:
    body = json.dumps({"detail": error_detail(limit)}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # the unread body is still on the wire: do not reuse this connection for another request
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
