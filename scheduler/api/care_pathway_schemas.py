"""Schemas of care pathways (``/v1/pathways``): a family's course of sessions, booked as one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from scheduler.api import schemas as s
from scheduler.api.inputs import MULTI_LINE, ApiDateTime
from scheduler.languages import normalize_language

MAX_SESSIONS = 6
PathwayStatus = Literal["active", "closed", "completed"]


class SessionIn(s.Strict):
    """One session: when, and who is expected (shown to the family in neutral words)."""

    start: ApiDateTime
    attendees: s.Attendees | None = Field(
        None, description="`parents`, `child` or `family` (null: not said)."
    )


class PathwayCreate(s.Strict):
    """A care pathway to book: every session or none, with one staff member at one site."""

    service_id: s.Ident
    staff_id: s.Ident | None = Field(None, description="By default the first session's free staff member.")
    site_id: s.Ident | None = None
    family: s.FamilyIn
    interpreter_language: s.Language | None = None
    note: Annotated[str, Field(max_length=2000), MULTI_LINE] | None = None
    sessions: list[SessionIn] = Field(
        min_length=1, max_length=MAX_SESSIONS, description="In start order, each after the previous (1 to 6)."
    )

    @field_validator("interpreter_language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else normalize_language(value)


class PathwaySessionOut(BaseModel):
    """A session of a pathway: its appointment (changed through /v1/appointments), times and status."""

    appointment_id: str
    start: datetime
    end: datetime
    attendees: s.Attendees | None = None
    status: s.AppointmentStatus


class PathwayOut(BaseModel):
    """A care pathway, its times in the site's zone; ``completed`` once every session is past or cancelled."""

    id: str
    status: PathwayStatus
    service_id: str
    staff_id: str
    site_id: str
    family: s.FamilyOut
    interpreter_language: str | None = None
    note: str | None = None
    sessions: list[PathwaySessionOut]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    """Staff-only: never shown to the family."""


class PathwayCloseIn(s.Strict):
    """Why the pathway is closed (optional, staff-only)."""

    reason: Annotated[str, Field(max_length=500), MULTI_LINE] | None = None
