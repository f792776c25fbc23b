"""Schemas of the reports: appointment figures, report links and imported past appointments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator

from scheduler.api.inputs import ApiDate, ApiDateTime
from scheduler.api.schemas import Ident, Strict
from scheduler.languages import normalize_language

Figure = int
GroupKey = str | int | None


class AppointmentStatsOut(Strict):
    """Figures per group and in total. Each row holds its group's keys (``site_id``, ``month``...)
    then ``booked``, ``attended``, ``no_show``, ``cancelled``, ``cancelled_late``, ``families``,
    ``first_appointments``, ``with_interpreter``, ``home_visits``, ``sms_sent``, ``sms_segments``,
    ``waitlist_refills`` (booked into a freed slot through a waiting-list offer)."""

    from_: date = Field(alias="from")
    to: date
    group_by: list[str]
    rows: list[dict[str, GroupKey]]
    totals: dict[str, Figure]


class ReportCreate(Strict):
    """A report page for a period, of some sites or all of them."""

    from_: ApiDate = Field(alias="from")
    to: ApiDate
    site_ids: list[Ident] | None = Field(None, max_length=200)


class ReportLinkOut(Strict):
    """The report page's link: read-only, no other credential than its token."""

    url: str
    expires_at: datetime


ImportedStatus = Literal["attended", "no_show", "cancelled"]


class ImportedFamily(Strict):
    """Who the appointment was with: a reference and a language, never a phone."""

    reference: Annotated[str, Field(min_length=1, max_length=64)]
    language: Annotated[str, Field(min_length=2, max_length=8)] = "fr"

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return normalize_language(value)


class ImportedAppointment(Strict):
    """A past appointment as another tool kept it."""

    external_id: Annotated[str, Field(min_length=1, max_length=120)]
    service_id: Ident
    staff_id: Ident
    site_id: Ident
    start: ApiDateTime
    end: ApiDateTime
    status: ImportedStatus
    family: ImportedFamily


class AppointmentImport(Strict):
    """Past appointments to import, all or none."""

    items: list[ImportedAppointment] = Field(min_length=1, max_length=5000)


class ImportOut(Strict):
    """How many were new, and how many had been imported before (same ``external_id``)."""

    imported: int
    already_imported: int
