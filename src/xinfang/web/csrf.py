"""CSRF protection for requests authenticated by the session cookie (pages' forms and the pages' own fetch calls).

The token is derived from the session token (a one-way hash), so it is per session, needs no storage and changes at
every login. Pages put it in a `<meta name="csrf-token">` and in a hidden `csrf_token` field of every form; the
JavaScript modules send it as the `X-CSRF-Token` header. Requests with a bearer token (API clients) carry no
ambient credential and are not checked. The session cookie is also SameSite=Strict: this is the second line.
"""

from __future__ import annotations

import hashlib
import hmac

from xinfang.errors import PermissionDenied

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(session_token: str | None) -> str:
    if not session_token:
        return ""
    return hashlib.sha256(b"xinfang-csrf\x00" + session_token.encode()).hexdigest()[:40]


def check(session_token: str, supplied: str | None) -> None:
    """Raise PermissionDenied (code csrf.invalid) unless `supplied` is this session's token."""
    if not supplied or not hmac.compare_digest(supplied, token_for(session_token)):
        raise PermissionDenied("页面已过期或请求来源不明,请刷新页面后重试", code="csrf.invalid")
