"""The waiting list's request and answer bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from scheduler.api.inputs import ApiDateTime
from scheduler.api.schemas import FamilyIn, Ident, Strict

WaitlistStatus = Literal["waiting", "offered", "booked", "expired", "cancelled"]


class WaitlistEntryCreate(Strict):
    """A family waiting for a time of a service, or for an earlier time than its appointment."""

    service_id: Ident
    site_id: Ident | None = None
    staff_id: Ident | None = None
    family: FamilyIn | None = Field(None, description="Required unless appointment_id names the family's "
                                                      "appointment.")
    earliest: ApiDateTime | None = None
    latest: ApiDateTime | None = None
    appointment_id: Ident | None = Field(
        None, description="The family wants an earlier time than this appointment (RDV-Solidarités' rules: "
                          "offers while it is more than 7 days away, one a day, three in all).")


class WaitlistFamilyOut(BaseModel):
    """The waiting family as staff see it (never its phone)."""

    reference: str
    language: str


class WaitlistEntryOut(BaseModel):
    """An entry of the waiting list."""

    id: str
    status: WaitlistStatus
    position: int | None = Field(description="Place among the service's waiting families, in order of "
                                             "arrival (from 1); null once off the list.")
    service_id: str
    site_id: str | None
    staff_id: str | None
    family: WaitlistFamilyOut
    earliest: datetime | None
    latest: datetime | None
    appointment_id: str | None
    offers_sent: int
    offers_ignored: int
    marked: bool = Field(description="Three offers left unanswered: the family stays on the list, marked.")
    booked_appointment_id: str | None
    created_at: datetime
