"""SQLModel tables: the persisted shape of sites, people, rules, holds and appointments.

Every datetime column is ``sqlmodel``'s UTCDateTime: aware UTC in, aware UTC out, ``timestamptz``
on PostgreSQL and lexically ordered UTC text on SQLite (the SQLite overlap triggers rely on it).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def new_id() -> str:
    """An opaque identifier."""
    return uuid.uuid4().hex


class Site(SQLModel, table=True):
    """A place where appointments happen: an office, a school, a family's home, or online."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    address: str | None = Field(default=None, max_length=300)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    school_zone: str | None = Field(default=None, max_length=1)
    public_label: str = Field(max_length=120)
    holiday_region: str | None = Field(default=None, max_length=8)
    phone: str | None = Field(default=None, max_length=20)
    created_at: datetime


class Staff(SQLModel, table=True):
    """A staff member who receives families."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    created_at: datetime


class Interpreter(SQLModel, table=True):
    """An interpreter of the programme's pool: a resource booked like staff."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    languages: list[str] = Field(sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="on_site", max_length=16)
    phone: str | None = Field(default=None, max_length=20)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    created_at: datetime


class Service(SQLModel, table=True):
    """A kind of appointment: its duration, capacity, notice, horizon and reminder offsets."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    duration_minutes: int
    capacity: int = 1
    min_notice_minutes: int = 0
    horizon_days: int = 92
    reminder_offsets_minutes: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    bring: str | None = Field(default=None, max_length=300)
    """What the family should bring, shown on its page (public wording: no internal detail)."""
    rebook_any_staff: bool = False
    """A family choosing another time from its page may take any staff member's (else only its own)."""
    created_at: datetime

    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="service_duration_positive"),
        CheckConstraint("capacity >= 1", name="service_capacity_positive"),
    )


class AvailabilityRule(SQLModel, table=True):
    """A weekly opening of a staff member at a site for some services, or of an interpreter."""

    __tablename__ = "availability_rule"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    staff_id: str | None = Field(default=None, foreign_key="staff.id", index=True, max_length=32)
    interpreter_id: str | None = Field(default=None, foreign_key="interpreter.id", index=True, max_length=32)
    site_id: str | None = Field(default=None, foreign_key="site.id", index=True, max_length=32)
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None = None
    follows_school_calendar: bool = False
    every_weeks: int = 1
    """1: every week; 2: every other week (the weeks counted from ``valid_from``'s); up to 4."""
    created_at: datetime

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="rule_weekday_range"),
        CheckConstraint("every_weeks BETWEEN 1 AND 4", name="rule_every_weeks_range"),
        CheckConstraint("end_time > start_time", name="rule_ends_after_start"),
        CheckConstraint(
            "(staff_id IS NOT NULL AND interpreter_id IS NULL AND site_id IS NOT NULL)"
            " OR (staff_id IS NULL AND interpreter_id IS NOT NULL)",
            name="rule_of_staff_or_interpreter",
        ),
    )


class RuleService(SQLModel, table=True):
    """Which services a weekly rule offers (a link table, so slot search filters in SQL)."""

    __tablename__ = "rule_service"

    rule_id: str = Field(
        foreign_key="availability_rule.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    service_id: str = Field(foreign_key="service.id", primary_key=True, index=True, max_length=32)


class Absence(SQLModel, table=True):
    """A time when a staff member or an interpreter is away."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    staff_id: str | None = Field(default=None, foreign_key="staff.id", max_length=32)
    interpreter_id: str | None = Field(default=None, foreign_key="interpreter.id", max_length=32, index=True)
    start: datetime
    end: datetime
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime

    __table_args__ = (
        CheckConstraint('"end" > start', name="absence_ends_after_start"),
        CheckConstraint("(staff_id IS NULL) <> (interpreter_id IS NULL)", name="absence_of_one_resource"),
        Index("ix_absence_staff_end", "staff_id", "end"),
    )


class Closure(SQLModel, table=True):
    """A time when a site is closed (a strike, an election): no slot there, whoever works there."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    site_id: str = Field(foreign_key="site.id", max_length=32, ondelete="CASCADE")
    start: datetime
    end: datetime
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime

    __table_args__ = (
        CheckConstraint('"end" > start', name="closure_ends_after_start"),
        Index("ix_closure_site_end", "site_id", "end"),
    )


class Opening(SQLModel, table=True):
    """A one-off extra opening of a staff member, outside the weekly rules."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    staff_id: str = Field(foreign_key="staff.id", max_length=32)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    service_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    start: datetime
    end: datetime
    created_at: datetime

    __table_args__ = (
        CheckConstraint('"end" > start', name="opening_ends_after_start"),
        Index("ix_opening_staff_end", "staff_id", "end"),
    )


class Family(SQLModel, table=True):
    """The minimum we keep about a family: its reference, and how and whether to text it."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    reference: str = Field(max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=20)
    language: str = Field(default="fr", max_length=8)
    sms_consent: bool = False
    last_appointment_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class HoldRecord(SQLModel, table=True):
    """A booked block of a resource (staff member or interpreter): ``taken`` of ``capacity`` places.

    The database itself forbids two blocking holds of one resource from overlapping: an
    exclusion constraint on PostgreSQL, triggers on SQLite (see the initial migration). The
    engine's view of one is ``scheduler.domain.slots.Hold``.
    """

    __tablename__ = "hold"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    resource_id: str = Field(max_length=32)
    resource_kind: str = Field(max_length=16)
    service_id: str = Field(max_length=32)
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int = 0

    __table_args__ = (
        UniqueConstraint("resource_id", "service_id", "starts_at", name="uq_hold_block"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="hold_taken_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="hold_ends_after_start"),
        Index("ix_hold_resource_time", "resource_id", "starts_at", "ends_at"),
    )


class Appointment(SQLModel, table=True):
    """A family's appointment with a staff member at a site.

    The database itself forbids two active appointments of one family from overlapping: an
    exclusion constraint on PostgreSQL, triggers on SQLite (migration 0009).
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    status: str = Field(default="booked", max_length=16)
    service_id: str = Field(foreign_key="service.id", max_length=32)
    staff_id: str = Field(foreign_key="staff.id", max_length=32)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    family_id: str = Field(foreign_key="family.id", index=True, max_length=32)
    phone: str | None = Field(default=None, max_length=20, index=True)
    """The number this appointment was booked with (E.164): its texts go there. None: the
    family's number (appointments booked before it was kept, or erased after retention)."""
    starts_at: datetime
    ends_at: datetime
    staff_hold_id: str = Field(foreign_key="hold.id", max_length=32)
    interpreter_language: str | None = Field(default=None, max_length=8)
    interpreter_id: str | None = Field(default=None, foreign_key="interpreter.id", max_length=32, index=True)
    interpreter_hold_id: str | None = Field(default=None, foreign_key="hold.id", max_length=32)
    interpreter_status: str | None = Field(default=None, max_length=16)
    interpreter_agency: str | None = Field(default=None, max_length=120)
    interpreter_reference: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    visit_address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """A home visit's address: the family's data, erased with it (retention)."""
    cancel_reason: str | None = Field(default=None, max_length=500)
    sequence: int = 0
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    """When it was cancelled (the reports count a cancellation less than 24 h before the start as late)."""
    cancelled_by: str | None = Field(default=None, max_length=16)
    """``family``, ``api``, ``staff`` or ``system``: who cancelled (null unless cancelled)."""
    attendees: str | None = Field(default=None, max_length=16)
    """Who is expected: ``parents``, ``child`` or ``family`` (null: not said)."""
    pathway_id: str | None = Field(default=None, max_length=32, index=True)
    sms_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """SMS handed to the provider about this appointment (to anyone): counted when each is sent
    (``scheduler.db.outbox.record_claimed``), so the reports read it without the outbox."""
    sms_segments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Their segments, as the provider counted them."""

    __table_args__ = (
        Index("ix_appointment_staff_start", "staff_id", "starts_at"),
        Index("ix_appointment_site_start", "site_id", "starts_at"),
        Index("ix_appointment_start", "starts_at"),
        # A family's history in date order, read from the index alone: the reports' "first appointment".
        Index("ix_appointment_family_history", "family_id", "starts_at", "status"),
    )


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 is stored (keys are 256-bit random, so no slow hash is needed)."""

    __tablename__ = "api_key"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime
    revoked_at: datetime | None = None
    site_ids: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The sites the key sees and acts on; None: every site (see ``scheduler.db.access``)."""
    expires_at: datetime | None = None
    """Past it the key is refused (401); None: it never expires."""
    last_used_at: datetime | None = None
    """When the key was last seen, to the minute (written at most once a minute per process)."""


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a create, kept 24 h to answer a retry with the same key."""

    __tablename__ = "idempotency_record"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    api_key_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(index=True)

    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency_key"),)


class Feed(SQLModel, table=True):
    """A calendar feed URL of a staff member, a site or an interpreter; only the token's hash is kept."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    token_hash: str = Field(max_length=64, unique=True)
    owner_kind: str = Field(max_length=16)
    owner_id: str = Field(max_length=32, index=True)
    privacy: str = Field(default="standard", max_length=16)
    created_at: datetime
    revoked_at: datetime | None = None
    last_fetched_at: datetime | None = None
    """When a calendar last fetched it, to the minute (written at most once a minute per process)."""


class FamilyLink(SQLModel, table=True):
    """The short link of an appointment's family page: only the token's SHA-256 is stored.

    The token itself is re-derived from the secret key whenever an SMS is written, so it is
    never kept in clear; ``expires_at`` follows the appointment when it moves.
    """

    __tablename__ = "family_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    appointment_id: str = Field(foreign_key="appointment.id", max_length=32, unique=True, ondelete="CASCADE")
    expires_at: datetime
    revoked_at: datetime | None = None
    created_at: datetime


class InterpreterRelease(SQLModel, table=True):
    """A pool interpreter taken off an appointment that lives on (a move gave it another one,
    or an agency's took over), with the booking as their feed last showed it.

    Their feed shows that booking cancelled for 30 days, as it shows a cancelled appointment:
    without this row the appointment, now naming someone else, would just vanish from it.
    One row per (appointment, interpreter): a second release of the same interpreter replaces
    the first. The rows of an appointment go with it.
    """

    __tablename__ = "interpreter_release"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    appointment_id: str = Field(foreign_key="appointment.id", max_length=32, ondelete="CASCADE")
    interpreter_id: str = Field(foreign_key="interpreter.id", max_length=32, ondelete="CASCADE")
    starts_at: datetime
    ends_at: datetime
    site_id: str = Field(foreign_key="site.id", max_length=32, ondelete="CASCADE")
    staff_hold_id: str = Field(foreign_key="hold.id", max_length=32, ondelete="CASCADE")
    """The collective session the booking belonged to (a session's event is named after its hold)."""
    sequence: int
    """The released event's SEQUENCE: one past the last one the interpreter's feed showed."""
    released_at: datetime

    __table_args__ = (
        UniqueConstraint("appointment_id", "interpreter_id", name="uq_interpreter_release"),
        Index("ix_interpreter_release_interpreter", "interpreter_id", "released_at"),
    )


class ReportLink(SQLModel, table=True):
    """A report page's link: the period and sites it shows; only the token's SHA-256 is kept."""

    __tablename__ = "report_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    from_date: date
    to_date: date
    site_ids: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    expires_at: datetime
    created_at: datetime


class AppointmentImport(SQLModel, table=True):
    """A past appointment imported from another tool, under the id it had there (imports are idempotent)."""

    __tablename__ = "appointment_import"

    external_id: str = Field(primary_key=True, max_length=120)
    appointment_id: str = Field(foreign_key="appointment.id", max_length=32, unique=True, ondelete="CASCADE")
    imported_at: datetime


class Pathway(SQLModel, table=True):
    """A family's care pathway: a course of sessions with one staff member at one site, booked as one.

    Each session is an appointment whose ``pathway_id`` names it. ``status`` is ``active`` or
    ``closed``; an active pathway whose sessions are all past or cancelled reads ``completed``.
    """

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    status: str = Field(default="active", max_length=16)
    service_id: str = Field(foreign_key="service.id", max_length=32)
    staff_id: str = Field(foreign_key="staff.id", max_length=32)
    site_id: str = Field(foreign_key="site.id", max_length=32)
    family_id: str = Field(foreign_key="family.id", index=True, max_length=32)
    interpreter_language: str | None = Field(default=None, max_length=8)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    close_reason: str | None = Field(default=None, max_length=500)
    """Staff-only, as an appointment's ``cancel_reason``."""
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """One read or change of a family's data: who, what, when, from where (append-only).

    A trigger refuses every UPDATE, and every DELETE but the retention purge's (migration 0013 on
    PostgreSQL, 0017 on SQLite); ``family_reference`` is kept so that "who saw this family's data" is one
    indexed query even after the appointment is gone.
    """

    __tablename__ = "audit_entry"

    seq: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    at: datetime
    actor_kind: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=64)
    actor_name: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=40)
    target_kind: str = Field(max_length=24)
    target_id: str | None = Field(default=None, max_length=64)
    appointment_id: str | None = Field(default=None, max_length=32)
    family_reference: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)

    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_family", "family_reference", "at"),
        Index("ix_audit_entry_actor", "actor_id", "at"),
        Index("ix_audit_entry_appointment", "appointment_id", "at"),
    )


class ChangeCounter(SQLModel, table=True):
    """How many times the data behind one key changed (``scheduler.db.counters``).

    Written by database triggers only (migration 0016), in the transaction of the write.
    """

    __tablename__ = "change_counter"

    key: str = Field(primary_key=True, max_length=80)
    seq: int = Field(sa_column=Column(BigInteger(), nullable=False))
    changed_ms: int = Field(sa_column=Column(BigInteger(), nullable=False))
    """When it last changed, in milliseconds since the epoch."""
