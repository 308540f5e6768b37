"""The shapes petitions take at the edges: what intake accepts (PetitionIn) and what readers see (PetitionRead).

Personal data in a *Read schema is always masked; unmasking is a separate, audited call.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinfang.cases.enums import CHANNEL_BY_LABEL, Channel
from xinfang.text.sanitize import clean_text

MAX_TITLE = 200
MAX_BODY = 20_000
MAX_PETITIONERS = 500
MAX_REPRESENTATIVES = 5  # 信访工作条例: a group chooses at most 5 representatives


class PetitionerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=100)
    id_number: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    is_representative: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _clean(cls, v: Any) -> Any:
        # issue 8: control and bidi characters (text.sanitize)
        return clean_text(v) if isinstance(v, str) else v

    @field_validator("id_number", "phone", "address", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = clean_text(v)  # issue 8: control and bidi characters (text.sanitize)
        if isinstance(v, str) and not v.strip():
            return None
        return v

    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from xinfang.text.ids import normalise_id_number

        return normalise_id_number(v)

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from xinfang.text.ids import normalise_phone

        return normalise_phone(v)


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    division_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    address: str | None = Field(None, max_length=300)
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)

    @field_validator("address", mode="before")
    @classmethod
    def _clean(cls, v: Any) -> Any:
        # issue 8: control and bidi characters (text.sanitize)
        return clean_text(v) if isinstance(v, str) else v


class PetitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    title: str = Field(..., min_length=1, max_length=MAX_TITLE)
    body: str = Field(..., min_length=1, max_length=MAX_BODY)
    received_at: datetime | None = None
    petitioners: list[PetitionerIn] = Field(default_factory=list, max_length=MAX_PETITIONERS)
    location: LocationIn | None = None
    headcount: int | None = Field(None, ge=1, le=100_000, description="people present (visits) or concerned")
    source: str | None = Field(None, max_length=50, description="the feed or system it came from")
    external_id: str | None = Field(None, max_length=100, description="its number in that system")
    upper_due_on: date | None = Field(None, description="deadline set by the higher-level bureau (上级交办)")
    category: str | None = Field(None, max_length=50)
    accused_unit: str | None = Field(
        None,
        max_length=32,
        description="检举控告: code of the accused unit, which will never see the informant",
    )

    @field_validator("title", "body", "source", "external_id", "category", mode="before")
    @classmethod
    def _clean(cls, v: Any) -> Any:
        # issue 8: control and bidi characters (text.sanitize)
        return clean_text(v) if isinstance(v, str) else v

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_from_label(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip() in CHANNEL_BY_LABEL:
            return CHANNEL_BY_LABEL[v.strip()]
        return v

    @field_validator("petitioners")
    @classmethod
    def _at_most_five_representatives(cls, v: list[PetitionerIn]) -> list[PetitionerIn]:
        if sum(p.is_representative for p in v) > MAX_REPRESENTATIVES:
            raise ValueError(f"一个集体访最多推选{MAX_REPRESENTATIVES}名代表")
        return v


class PetitionerRead(BaseModel):
    id: int
    name: str
    id_number: str | None = Field(None, description="masked")
    phone: str | None = Field(None, description="masked")
    address: str | None = None
    is_representative: bool = False


class EventRead(BaseModel):
    id: int
    kind: str
    at: datetime
    actor: str | None
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


class PetitionRead(BaseModel):
    id: int
    number: str
    channel: Channel
    status: str
    title: str
    body: str
    received_at: datetime
    registered_at: datetime
    division_code: str | None
    division_name: str | None = None
    address: str | None
    lng: float | None
    lat: float | None
    headcount: int | None
    category: str | None
    department: str | None
    department_name: str | None = None
    source: str | None
    external_id: str | None
    upper_due_on: date | None
    is_demo: bool
    petitioners: list[PetitionerRead] = Field(default_factory=list)
    analysis: dict[str, Any] | None = None
    events: list[EventRead] | None = None
    deadlines: list[ClockRead] = Field(default_factory=list, description="the open statutory clocks")
    documents: list[DocumentRead] = Field(default_factory=list)
    matter_kind: str | None = None
    evaluation: str | None = None
    outcome: str | None = None
    leader: str | None = None
    version: int = 1
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description="steps the current user may take now"
    )


class ClockRead(BaseModel):
    rule: str
    name: str
    unit: str | None
    start_on: date
    due_on: date
    state: str
    state_label: str
    closed_on: date | None = None
    is_provisional: bool = False


class DocumentRead(BaseModel):
    id: int
    kind: str
    title: str
    created_at: datetime
    url: str


class PetitionCreated(PetitionRead):
    query_code: str | None = Field(
        None, description="shown once: the petitioner's code for the public query page"
    )


class PetitionSummary(BaseModel):
    id: int
    number: str
    channel: Channel
    status: str
    title: str
    received_at: datetime
    division_code: str | None
    category: str | None
    department: str | None
    is_demo: bool


class PetitionPage(BaseModel):
    items: list[PetitionSummary]
    total: int
    page: int
    page_size: int
