"""The error hierarchy services raise; the web layer and CLI map them to status codes and exit codes.

Each error has a stable machine `code` (the UI turns it into Chinese) and a human message, so that callers never need
to parse text and services never raise HTTP exceptions.
"""

from __future__ import annotations

from typing import Any


class XinfangError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.params = params

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            **({"params": self.params} if self.params else {}),
        }


class NotFound(XinfangError):
    code = "not_found"
    http_status = 404


class PermissionDenied(XinfangError):
    code = "permission_denied"
    http_status = 403


class AuthenticationFailed(XinfangError):
    code = "authentication_failed"
    http_status = 401


class InvalidInput(XinfangError):
    code = "invalid_input"
    http_status = 422


class InvalidTransition(XinfangError):
    code = "invalid_transition"
    http_status = 409


class Conflict(XinfangError):
    code = "conflict"
    http_status = 409


class IntegrationError(XinfangError):
    code = "integration_error"
    http_status = 502

    def __init__(self, message: str, *, retryable: bool = True, **params: Any) -> None:
        super().__init__(message, **params)
        self.retryable = retryable
