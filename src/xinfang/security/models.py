"""Tables of the security slice: login tokens and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinfang.store.base import Base, JSONType, UTCDateTime


class AuthToken(Base):
    """An opaque bearer/session token, stored as its SHA-256 so that a database leak yields no usable token.

    Tokens live in the database (not in process memory) so that several stateless app instances share them.
    """

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "full": a signed-in session. "totp": the password was right, the second factor is still owed (minutes only).
    # "enrol": the password was right but the user's role requires a second factor they have not set up yet; the
    # token opens the account page and nothing else (see org.second_factor).
    stage: Mapped[str] = mapped_column(String(8), default="full")


class AuditEntry(Base):
    """One audited action. `hash` covers the entry's content and the previous entry's hash (a chain)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row holding the chain's tip; appending locks it so concurrent writers cannot fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Throttle(Base):
    """Failed attempts by key (e.g. a client address on the public query page), kept in the database so every app
    instance applies the same limit."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class TotpCredential(Base):
    """A user's TOTP secret (RFC 6238) for the second login factor, one per user.

    The secret is SM4-encrypted with the personal-data key ring like ID numbers (a database leak must not let anyone
    compute codes). `confirmed_at` stays empty while enrolment waits for the first valid code: only a confirmed
    credential is asked for at login. `last_step` is the last time step accepted, so that no code works twice.
    """

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret_enc: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
