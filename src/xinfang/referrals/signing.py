"""HMAC-SHA256 request signing, the same scheme in both directions (our requests, the platforms' callbacks).

    signature = hex(HMAC-SHA256(secret, f"{timestamp}.{nonce}.".encode() + raw_body))

sent as `X-Xinfang-Signature: sha256=<hex>` with `X-Xinfang-Timestamp` (Unix seconds) and `X-Xinfang-Nonce` (16-100
characters, unique per request). The receiver checks the signature over the *raw* body before parsing anything, then
the timestamp's age and the nonce's novelty (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Xinfang-Timestamp"
NONCE_HEADER = "X-Xinfang-Nonce"
SIGNATURE_HEADER = "X-Xinfang-Signature"
PREFIX = "sha256="


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.{nonce}.".encode("ascii", "replace") + body, "sha256"
    )
    return PREFIX + mac.hexdigest()


def sign_headers(secret: str, body: bytes, *, timestamp: int, nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or secrets.token_hex(16)
    ts = str(timestamp)
    return {
        TIMESTAMP_HEADER: ts,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, ts, nonce, body),
    }


def is_valid(secret: str, timestamp: str, nonce: str, body: bytes, given: str) -> bool:
    expected = signature(secret, timestamp, nonce, body)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().encode("ascii", "replace"))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
