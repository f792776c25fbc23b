"""Rows written straight into a database, for tests and benchmarks that need many of them fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from notifications.outbox import Event
from scheduler.db import outbox
from scheduler.db.engine import Database
from scheduler.db.tables import (
    Appointment,
    AvailabilityRule,
    Family,
    HoldRecord,
    RuleService,
    Service,
    Site,
    Staff,
    new_id,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SeededProgramme:
    """The ids of a seeded site, staff member, service and rule."""

    site_id: str
    staff_id: str
    service_id: str


async def programme(
    db: Database,
    *,
    weekday: int = 3,
    start: str = "09:00",
    end: str = "12:00",
    duration: int = 60,
    capacity: int = 1,
    zone: str = "Europe/Paris",
    reminder_offsets: list[int] | None = None,
    site_kind: str = "office",
) -> SeededProgramme:
    """A site, a staff member, a service and one weekly rule."""
    ids = SeededProgramme(new_id(), new_id(), new_id())
    rule_id = new_id()
    async with db.write() as session:
        await session.execute(insert(Site).values(
            id=ids.site_id, name="Site", kind=site_kind, address="1 rue de la Paix", timezone=zone,
            public_label="Accueil", created_at=EPOCH))
        await session.execute(insert(Staff).values(id=ids.staff_id, name="Staff", role="psychologist",
                                                   created_at=EPOCH))
        await session.execute(
            insert(Service).values(
                id=ids.service_id,
                name="Service",
                duration_minutes=duration,
                capacity=capacity,
                min_notice_minutes=0,
                horizon_days=730,
                reminder_offsets_minutes=reminder_offsets,
                created_at=EPOCH,
            )
        )
        await session.execute(
            insert(AvailabilityRule).values(
                id=rule_id,
                staff_id=ids.staff_id,
                site_id=ids.site_id,
                weekday=weekday,
                start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end),
                valid_from=date(2026, 1, 1),
                follows_school_calendar=False,
                created_at=EPOCH,
            )
        )
        await session.execute(insert(RuleService).values(rule_id=rule_id, service_id=ids.service_id))
    return ids


def mobile(index: int) -> str:
    """A distinct valid French mobile number for each index."""
    return f"+3361{index:07d}"


async def appointments_with_due_messages(
    db: Database,
    prog: SeededProgramme,
    count: int,
    first_start: datetime,
    now: datetime,
    event: Event = "booked",
) -> list[str]:
    """``count`` booked appointments one hour apart, each family consenting, each with one due message."""
    holds: list[dict[str, Any]] = []
    families: list[dict[str, Any]] = []
    appointments: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for index in range(count):
        start = first_start + timedelta(hours=index)
        hold_id, family_id, appointment_id = new_id(), new_id(), new_id()
        holds.append(
            {
                "id": hold_id,
                "resource_id": prog.staff_id,
                "resource_kind": "staff",
                "service_id": prog.service_id,
                "starts_at": start,
                "ends_at": start + timedelta(hours=1),
                "capacity": 1,
                "taken": 1,
            }
        )
        families.append({"id": family_id, "reference": f"REF-{appointment_id[:12]}", "phone": mobile(index),
                         "language": "fr", "sms_consent": True, "created_at": now, "updated_at": now})
        appointments.append(
            {
                "id": appointment_id,
                "status": "booked",
                "service_id": prog.service_id,
                "staff_id": prog.staff_id,
                "site_id": prog.site_id,
                "family_id": family_id,
                "starts_at": start,
                "ends_at": start + timedelta(hours=1),
                "staff_hold_id": hold_id,
                "sequence": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        messages.append(
            {
                "id": new_id(),
                "appointment_id": appointment_id,
                "recipient": "family",
                "kind": event,
                "event": event,
                "status": outbox.PENDING,
                "due_at": now,
                "expires_at": start,
                "attempts": 0,
                "needs_lookup": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with db.write() as session:
        for table, rows in ((HoldRecord, holds), (Family, families), (Appointment, appointments),
                            (outbox.OutboxMessage, messages)):
            for chunk in range(0, len(rows), 500):
                await session.execute(insert(table), rows[chunk:chunk + 500])
    return [row["id"] for row in messages]
