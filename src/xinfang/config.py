"""One settings object, read once from the environment (prefix XINFANG_) or built explicitly in tests.

This is the only module that reads os.environ.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DATA_KEY = "dev-only-insecure-key-change-me"


class ReferralPlatformConfig(BaseModel):
    """One outside platform of 访调诉 integration (people's mediation or the court), per deployment.

    Without `endpoint` the platform is manual-only: referrals are exported as a ZIP and their status recorded by hand.
    """

    name: str = Field("", description="display name, e.g. 县人民调解平台")
    endpoint: str | None = Field(None, description="base URL of the platform's referral API")
    token: str | None = Field(None, description="bearer token sent with requests, if the platform uses one")
    hmac_secret: str | None = Field(None, description="shared secret signing our requests (HMAC-SHA256)")
    callback_secret: str | None = Field(None, description="shared secret verifying the platform's callbacks")
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    field_map: dict[str, str] = Field(default_factory=dict, description="our bundle path -> their field name")
    status_map: dict[str, str] = Field(default_factory=dict, description="their status word -> ours")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINFANG_", env_file=None, extra="ignore")

    environment: str = Field("development", description="development | production")
    database_url: str = Field("sqlite:///xinfang.db", description="SQLAlchemy URL; SQLite file by default")
    data_key: str = Field(
        DEV_DATA_KEY,
        description="secret from which the personal-data encryption and blind-index keys are derived",
    )
    data_key_id: str = Field(
        "k1", description="identifier of data_key, stored with every ciphertext (rotation)"
    )
    old_data_keys: dict[str, str] = Field(
        default_factory=dict, description="earlier keys by id, for decryption"
    )
    token_ttl_minutes: int = 8 * 60
    totp_required_roles: list[str] = Field(
        default_factory=list,
        description='roles that must use the TOTP second factor at login (JSON list, e.g. ["admin", "leader"])',
    )
    attachments_dir: Path = Field(Path("var/attachments"), description="content-addressed attachment store")
    notice_templates_dir: Path | None = Field(
        None,
        description="a deployment's edited notice templates (default: notice_templates/ beside attachments)",
    )
    model_dir: Path | None = Field(
        None,
        description="a deployment's own category models (`xinfang model activate`); its current/ model, when "
        "present, is used instead of the packaged one (re-checked on every request, so a switch needs no restart)",
    )
    max_upload_bytes: int = 20 * 1024 * 1024
    max_request_bytes: int = Field(
        2 * 1024 * 1024,
        ge=1024,
        description="JSON/form request bodies above this are refused with 413 (web.body_limit)",
    )
    max_import_rows: int = 200_000
    log_level: str = "INFO"
    log_dir: Path | None = Field(
        None,
        description="also write the (redacted, JSON) logs to xinfang.log here; rotate it with deploy/logrotate",
    )
    demo_label: bool = Field(False, description="label the UI and API as synthetic demo data (演示数据)")
    calendar_overrides: Path | None = Field(
        None, description="YAML of local holiday/调休 entries that win over the shipped calendar"
    )
    local_limits: dict[str, int] = Field(
        default_factory=dict,
        description='stricter local time limits by rule (e.g. {"handle": 30}); statutory limits stay the cap',
    )
    backlog_days: int = Field(
        90, description="an unresolved petition older than this joins the backlog (积案)"
    )
    buck_passing_transfers: int = Field(
        2, description="more transfers/objections than this flags buck-passing"
    )
    dispatch_enabled: bool = Field(True, description="analyse and route every new petition on arrival")
    auto_dispatch: bool = Field(
        True, description="dispatch automatically when the router is confident enough"
    )
    alert_channels: list[dict[str, Any]] = Field(
        default_factory=list,
        description="push channels for alerts (JSON list; see xinfang.alerts.channels); in-app is always on",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="base of the links put in pushed alert messages"
    )

    referral_platforms: dict[str, ReferralPlatformConfig] = Field(
        default_factory=dict, description='访调诉 platforms ("mediation", "court"): endpoint, secrets'
    )
    referral_callback_window_seconds: int = Field(300, description="callbacks older than this are replays")
    job_max_attempts: int = Field(8, ge=1, description="delivery attempts before a job is dead-lettered")
    job_backoff_seconds: float = Field(30.0, gt=0, description="first retry delay; doubles each attempt")
    job_backoff_max_seconds: float = Field(3600.0, gt=0)
    job_lease_seconds: float = Field(300.0, gt=0, description="a job whose worker vanished is retaken after")
    worker_poll_seconds: float = Field(2.0, gt=0)
    job_retention_days: int = Field(
        30, ge=1, description="done jobs are purged this many days after they finished (dead jobs are kept)"
    )
    job_purge_batch: int = Field(1000, ge=1, le=100_000, description="rows deleted per purge transaction")
    # The daily and periodic tasks the worker runs itself (xinfang.ops.scheduled); times are China local time.
    schedule_enabled: bool = Field(
        True,
        description="the worker runs the reminders, warning scan, review and polling below; false for a site "
        "that runs the same CLI commands from cron instead (the purge of done jobs always runs)",
    )
    schedule_clocks_remind_at: time = Field(time(6, 30), description="daily `clocks remind`")
    schedule_alerts_scan_at: time = Field(time(6, 40), description="daily `alerts scan` of the day before")
    schedule_review_run_at: time = Field(time(6, 50), description="daily `review run`")
    schedule_prevention_remind_at: time = Field(time(6, 55), description="daily `prevention remind`")
    schedule_alerts_deliver_minutes: int = Field(
        10, ge=1, le=24 * 60, description="`alerts deliver` (pending and retried pushes) every N minutes"
    )
    schedule_referrals_poll_minutes: int = Field(
        60, ge=1, le=24 * 60, description="`referrals poll` every N minutes"
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, v: str) -> str:
        if v.startswith("postgres://"):
            v = "postgresql://" + v[len("postgres://") :]
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v

    @field_validator(
        "schedule_clocks_remind_at",
        "schedule_alerts_scan_at",
        "schedule_review_run_at",
        "schedule_prevention_remind_at",
    )
    @classmethod
    def _local_time(cls, v: time) -> time:
        if v.tzinfo is not None:
            raise ValueError("schedule times are China local times: write HH:MM without a zone")
        return v

    @field_validator("local_limits")
    @classmethod
    def _limits_within_statute(cls, v: dict[str, int]) -> dict[str, int]:
        from xinfang.cases.deadlines import Rule, validate_local_limits

        validate_local_limits({Rule(k): days for k, days in v.items()})
        return v

    @field_validator("totp_required_roles")
    @classmethod
    def _known_roles(cls, v: list[str]) -> list[str]:
        from xinfang.cases.enums import Role

        unknown = sorted(set(v) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unknown roles in totp_required_roles: {unknown}")
        return v

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.data_key == DEV_DATA_KEY:
            raise ValueError("XINFANG_DATA_KEY must be set to a real secret in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # fields come from the environment (mypy has no pydantic plugin here)
