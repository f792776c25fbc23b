"""SQLModel tables of the waiting list: who waits for what, the offers texted to them, and the
wake-ups that tell the offer job a matching slot may have freed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer
from sqlmodel import Field, SQLModel

from scheduler.db.tables import new_id

ENTRY_STATUSES = ("waiting", "offered", "booked", "expired", "cancelled")
OFFER_STATUSES = ("open", "claimed", "taken", "expired", "withdrawn")


class WaitlistEntry(SQLModel, table=True):
    """A family waiting for a time of a service (optionally at a site, with a staff member, within a
    range), or for an earlier time than its appointment (``appointment_id``)."""

    __tablename__ = "waitlist_entry"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    service_id: str = Field(foreign_key="service.id", max_length=32)
    site_id: str | None = Field(default=None, max_length=32)
    staff_id: str | None = Field(default=None, max_length=32)
    family_id: str = Field(foreign_key="family.id", index=True, max_length=32)
    appointment_id: str | None = Field(default=None, max_length=32)
    """The appointment the family wants earlier, if any."""
    earliest: datetime | None = None
    latest: datetime | None = None
    arrival: int = 0
    """Order of arrival (one more than the last entry's when added)."""
    status: str = Field(default="waiting", max_length=16)
    offers_sent: int = 0
    offers_ignored: int = 0
    """Offers that expired unanswered: at three the entry stays, marked."""
    last_offered_at: datetime | None = None
    booked_appointment_id: str | None = Field(default=None, max_length=32)
    created_at: datetime
    updated_at: datetime

    __table_args__ = (Index("ix_waitlist_entry_service_status", "service_id", "status", "arrival"),)


class WaitlistOffer(SQLModel, table=True):
    """One free time texted to one entry's family; the first acceptance of the time books it."""

    __tablename__ = "waitlist_offer"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    entry_id: str = Field(foreign_key="waitlist_entry.id", index=True, max_length=32)
    service_id: str = Field(max_length=32)
    staff_id: str = Field(max_length=32)
    site_id: str = Field(max_length=32)
    starts_at: datetime
    ends_at: datetime
    token_hash: str = Field(max_length=64, unique=True)
    status: str = Field(default="open", max_length=16)
    expires_at: datetime
    appointment_id: str | None = Field(default=None, max_length=32, index=True)
    """The appointment the accepted offer booked (or moved): a freed slot re-booked."""
    created_at: datetime
    decided_at: datetime | None = None

    __table_args__ = (
        Index("ix_waitlist_offer_status_expires", "status", "expires_at"),
        Index("ix_waitlist_offer_slot", "service_id", "staff_id", "starts_at"),
    )


class WaitlistWake(SQLModel, table=True):
    """A matching slot may have freed (a cancellation, a new rule or opening, an absence removed):
    the offer job looks at once instead of at its next sweep."""

    __tablename__ = "waitlist_wake"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    created_at: datetime
