"""One settings object, read once from the environment (prefix XINFANG_) or built explicitly in tests.

This is the only module that reads os.environ.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DATA_KEY = "dev-only-insecure-key-change-me"


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
    attachments_dir: Path = Field(Path("var/attachments"), description="content-addressed attachment store")
    max_upload_bytes: int = 20 * 1024 * 1024
    max_import_rows: int = 200_000
    log_level: str = "INFO"
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

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, v: str) -> str:
        if v.startswith("postgres://"):
            v = "postgresql://" + v[len("postgres://") :]
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v

    @field_validator("local_limits")
    @classmethod
    def _limits_within_statute(cls, v: dict[str, int]) -> dict[str, int]:
        from xinfang.cases.deadlines import Rule, validate_local_limits

        validate_local_limits({Rule(k): days for k, days in v.items()})
        return v

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production" and self.data_key == DEV_DATA_KEY:
            raise ValueError("XINFANG_DATA_KEY must be set to a real secret in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
