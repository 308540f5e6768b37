"""RFC 6238 time-based one-time passwords: the RFC's own test vectors, the ±1 step window, single use."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes

from xinfang.security import totp

# RFC 6238 Appendix B: seeds (ASCII), and the 8-digit codes at each time for SHA1, SHA256 and SHA512.
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
ALGORITHMS = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256, "SHA512": hashes.SHA512}


def _b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode("ascii").rstrip("=")


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_the_rfc_6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for name, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        gen = totp._totp(_b32(SEEDS[name]), digits=8, algorithm=ALGORITHMS[name]())
        assert gen.generate(at).decode() == expected, name
    # The 6-digit code the apps show is the same HOTP value mod 10^6: the vector's last six digits.
    step = totp.step_of(datetime.fromtimestamp(at, UTC))
    assert step == at // 30
    assert totp.code_at(_b32(SEEDS["SHA1"]), step) == sha1[-6:]


def test_a_code_is_accepted_one_step_either_side_and_not_further() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 3, 2, 1, 30, 10, tzinfo=UTC)
    t = totp.step_of(now)
    for offset in (-1, 0, 1):
        assert (
            totp.matching_step(secret, totp.code_at(secret, t + offset), now=now, after_step=None)
            == t + offset
        )
    for offset in (-3, -2, 2, 3):
        assert totp.matching_step(secret, totp.code_at(secret, t + offset), now=now, after_step=None) is None


def test_a_code_at_or_before_the_last_accepted_step_is_refused() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 3, 2, 1, 30, 10, tzinfo=UTC)
    t = totp.step_of(now)
    code = totp.code_at(secret, t)
    assert totp.matching_step(secret, code, now=now, after_step=t - 1) == t
    assert totp.matching_step(secret, code, now=now, after_step=t) is None  # replay
    assert totp.matching_step(secret, totp.code_at(secret, t - 1), now=now, after_step=t) is None
    assert totp.matching_step(secret, totp.code_at(secret, t + 1), now=now, after_step=t) == t + 1
    later = now + timedelta(seconds=30)
    assert totp.matching_step(secret, code, now=later, after_step=t) is None


def test_what_people_type_is_normalised_and_garbage_refused() -> None:
    secret = totp.new_secret()
    now = datetime(2026, 3, 2, 1, 30, 10, tzinfo=UTC)
    code = totp.code_at(secret, totp.step_of(now))
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)  # a Chinese input method's digits
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", now=now, after_step=None) is not None
    assert totp.matching_step(secret, full_width, now=now, after_step=None) is not None
    for bad in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert totp.matching_step(secret, bad, now=now, after_step=None) is None


def test_secrets_are_160_bit_and_the_uri_is_what_apps_import() -> None:
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b and len(base64.b32decode(a + "=" * (-len(a) % 8))) == 20
    uri = totp.provisioning_uri(a, "admin")
    assert uri.startswith("otpauth://totp/") and f"secret={a}" in uri
    assert "digits=6" in uri and "period=30" in uri and "algorithm=SHA1" in uri and "admin" in uri
