"""Password hashing with Argon2id (argon2-cffi defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verified against for unknown usernames so that response time does not reveal which accounts exist.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


def check_policy(password: str) -> None:
    """Refuse weak passwords: at least 8 characters mixing at least two of letters, digits and symbols."""
    from xinfang.errors import InvalidInput

    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"密码至少{MIN_LENGTH}位", code="password.too_short")
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        raise InvalidInput("密码需包含字母、数字、符号中的至少两类", code="password.too_simple")
