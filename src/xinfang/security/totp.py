"""Time-based one-time passwords (RFC 6238) for the optional second login factor, from `cryptography`.

Parameters are the ones every authenticator app understands (HMAC-SHA1, 6 digits, 30-second steps): SM3 would suit
the national standards better, but no phone app offered to county staff computes it, and RFC 6238's security here
rests on the secret, not on the hash's collision resistance. Secrets are 160 bits (RFC 4226 §4 recommends that
length). This module is pure: it never sees the database; `org.second_factor` stores the secret encrypted and the
last accepted time step (so that a code cannot be replayed).
"""

from __future__ import annotations

import base64
import os
import unicodedata
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20
WINDOW = 1  # accept the previous and the next step too: phone clocks drift and people type slowly
ISSUER = "智慧信访"


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what people type into an app when they cannot scan)."""
    return base64.b32encode(os.urandom(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret_b32: str) -> bytes:
    padded = secret_b32.upper() + "=" * (-len(secret_b32) % 8)
    return base64.b32decode(padded)


def _totp(
    secret_b32: str,
    *,
    digits: int = DIGITS,
    algorithm: hashes.SHA1 | hashes.SHA256 | hashes.SHA512 | None = None,
) -> TOTP:
    return TOTP(_key(secret_b32), digits, algorithm or hashes.SHA1(), STEP_SECONDS)


def step_of(instant: datetime) -> int:
    """The RFC 6238 time step counter T of an aware instant."""
    return int(instant.timestamp()) // STEP_SECONDS


def code_at(secret_b32: str, step: int) -> str:
    """The code of one time step (tests and the enrolment page's self-check use it)."""
    return _totp(secret_b32).generate(step * STEP_SECONDS).decode("ascii")


def normalise_code(code: str) -> str:
    """Accept what people type: full-width digits from a Chinese input method, spaces between groups."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def matching_step(secret_b32: str, code: str, *, now: datetime, after_step: int | None) -> int | None:
    """The time step within ±WINDOW of `now` whose code is `code` and that is later than `after_step`, or None.

    Refusing steps up to `after_step` (the last step accepted for this user) makes every code single-use: a code
    seen over someone's shoulder or replayed from a captured request fails, even inside its 90-second window.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret_b32)
    current = step_of(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        try:
            totp.verify(code.encode("ascii"), step * STEP_SECONDS)  # constant-time comparison inside
        except InvalidToken:
            continue
        return step
    return None


def provisioning_uri(secret_b32: str, account: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app imports (as a QR code or pasted)."""
    return _totp(secret_b32).get_provisioning_uri(account, issuer)
