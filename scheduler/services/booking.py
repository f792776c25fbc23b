"""Booking use cases: book, cancel, reschedule and record the outcome, one transaction each.

The slot engine gives the friendly answer ("that time is not a free slot"); the hold rows give
the guarantee: the database refuses a second booking of a resource at an overlapping time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import holds as hold_store
from scheduler.db.holds import dialect_insert
from scheduler.db.tables import Appointment, Family, new_id
from scheduler.domain.errors import ConflictError, NotFound, SlotUnavailable
from scheduler.domain.intervals import utc
from scheduler.domain.slots import Slot
from scheduler.ports import HolidayCalendar
from scheduler.services.availability import SlotQuery, find_slots, get_service
from scheduler.services.notify import MessagePlanner

ACTIVE = ("booked", "confirmed")
OUTCOMES = ("attended", "no_show")


class AppointmentClosed(ConflictError):
    """The appointment can no longer change this way (cancelled, or already held)."""

    code = "appointment-closed"
    title = "Appointment closed"


@dataclass(frozen=True, slots=True)
class FamilyData:
    """What a booking says about the family (phone already in E.164)."""

    reference: str
    phone: str | None
    language: str
    sms_consent: bool


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A validated request to book."""

    service_id: str
    start: datetime
    family: FamilyData
    staff_id: str | None = None
    site_id: str | None = None
    note: str | None = None


async def book(
    session: AsyncSession, calendar: HolidayCalendar, planner: MessagePlanner, request: BookingRequest, now: datetime
) -> Appointment:
    """Book the slot starting at ``request.start``: the appointment, or SlotUnavailable.

    The family's confirmation and reminders are queued in the same transaction.
    """
    slot, hold_id = await _take_slot(session, calendar, request, now)
    family_id = await _upsert_family(session, request.family, now)
    appointment = await _insert(session, request, slot, hold_id, family_id, now)
    await _touch_last_appointment(session, family_id)
    await planner.booked(session, appointment, now)
    return appointment


async def _take_slot(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, now: datetime
) -> tuple[Slot, str]:
    """Hold a place on the first candidate slot the database lets us take."""
    capacity = (await get_service(session, request.service_id)).capacity
    for slot in await _candidate_slots(session, calendar, request, now):
        hold_id = await hold_store.try_acquire(
            session, slot.resource_id, "staff", slot.service_id, slot.interval, capacity
        )
        if hold_id is not None:
            return slot, hold_id
    raise SlotUnavailable(f"No free slot of this service starts at {request.start.isoformat()}.")


async def _candidate_slots(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, now: datetime
) -> list[Slot]:
    """The free slots starting exactly then, the least busy staff member first (fair spreading)."""
    local_day = request.start.date()
    query = SlotQuery(
        request.service_id,
        local_day - timedelta(days=local_day.weekday() + 1),
        local_day + timedelta(days=7 - local_day.weekday()),
        request.staff_id,
        request.site_id,
    )
    week = await find_slots(session, calendar, query, now)
    wanted = utc(request.start)
    matching = [slot for slot in week if slot.interval.start == wanted]
    offered = Counter(slot.resource_id for slot in week)
    # Fewer free slots left this week means busier: give the booking to whoever has more room.
    return sorted(matching, key=lambda slot: (-offered[slot.resource_id], slot.resource_id))


async def _upsert_family(session: AsyncSession, family: FamilyData, now: datetime) -> str:
    table = Family.__table__  # type: ignore[attr-defined]
    values = {
        "phone": family.phone,
        "language": family.language,
        "sms_consent": family.sms_consent,
        "updated_at": now,
    }
    statement = dialect_insert(session, table).values(
        id=new_id(), reference=family.reference, created_at=now, **values
    )
    # The latest booking states the family's current phone, language and consent.
    statement = statement.on_conflict_do_update(index_elements=["reference"], set_=values).returning(table.c.id)
    family_id: str = (await session.execute(statement)).scalar_one()
    return family_id


async def _touch_last_appointment(session: AsyncSession, family_id: str) -> None:
    """Retention counts from the family's latest appointment; recomputed on every change."""
    latest = (
        await session.execute(
            select(Appointment.starts_at).where(Appointment.family_id == family_id).order_by(
                Appointment.starts_at.desc()  # type: ignore[attr-defined]
            ).limit(1)
        )
    ).scalar_one_or_none()
    family = await session.get(Family, family_id)
    if family is not None:
        family.last_appointment_at = latest


async def _insert(
    session: AsyncSession, request: BookingRequest, slot: Slot, hold_id: str, family_id: str, now: datetime
) -> Appointment:
    appointment = Appointment(
        service_id=slot.service_id,
        staff_id=slot.resource_id,
        site_id=slot.site_id or "",
        family_id=family_id,
        starts_at=slot.interval.start,
        ends_at=slot.interval.end,
        staff_hold_id=hold_id,
        note=request.note,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    await session.flush()
    return appointment


async def get_for_update(session: AsyncSession, appointment_id: str) -> Appointment:
    """The appointment row, locked for the rest of the transaction (PostgreSQL; SQLite is serialised)."""
    statement = select(Appointment).where(Appointment.id == appointment_id).with_for_update()
    appointment = (await session.execute(statement)).scalar_one_or_none()
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


async def cancel(
    session: AsyncSession, planner: MessagePlanner, appointment_id: str, reason: str | None, now: datetime
) -> Appointment:
    """Cancel and free the slot; cancelling twice changes nothing (and texts nobody twice)."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "cancelled":
        return appointment
    if appointment.status not in ACTIVE:
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be cancelled.")
    await hold_store.release(session, appointment.staff_hold_id)
    appointment.status = "cancelled"
    appointment.cancel_reason = reason
    _changed(appointment, now)
    await planner.cancelled(session, appointment, now)
    return appointment


async def reschedule(
    session: AsyncSession,
    calendar: HolidayCalendar,
    planner: MessagePlanner,
    appointment_id: str,
    start: datetime,
    staff_id: str | None,
    now: datetime,
) -> Appointment:
    """Move the appointment to another free slot; on any refusal nothing changes (one transaction)."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status not in ACTIVE:
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be moved.")
    await hold_store.release(session, appointment.staff_hold_id)
    request = BookingRequest(
        appointment.service_id, start, FamilyData("", None, "fr", False), staff_id or appointment.staff_id
    )
    slot, hold_id = await _take_slot(session, calendar, request, now)
    _move(appointment, slot, hold_id, now)
    await _touch_last_appointment(session, appointment.family_id)
    await planner.moved(session, appointment, now)
    return appointment


def _move(appointment: Appointment, slot: Slot, hold_id: str, now: datetime) -> None:
    appointment.staff_id = slot.resource_id
    appointment.site_id = slot.site_id or appointment.site_id
    appointment.starts_at = slot.interval.start
    appointment.ends_at = slot.interval.end
    appointment.staff_hold_id = hold_id
    _changed(appointment, now)


async def record_outcome(session: AsyncSession, appointment_id: str, status: str, now: datetime) -> Appointment:
    """Record whether the family came; only once the appointment has started."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "cancelled":
        raise AppointmentClosed("A cancelled appointment has no outcome.")
    if utc(now) < appointment.starts_at:
        raise AppointmentClosed("The outcome can be recorded once the appointment has started.")
    if appointment.status != status:
        appointment.status = status
        _changed(appointment, now)
    return appointment


async def confirm(session: AsyncSession, appointment_id: str, now: datetime) -> Appointment:
    """The family confirmed it will come; confirming twice changes nothing."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "booked":
        appointment.status = "confirmed"
        _changed(appointment, now)
    elif appointment.status != "confirmed":
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be confirmed.")
    return appointment


def _changed(appointment: Appointment, now: datetime) -> None:
    appointment.sequence += 1
    appointment.updated_at = now


