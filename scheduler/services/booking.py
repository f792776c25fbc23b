"""Booking use cases: book, cancel, reschedule and record the outcome, one transaction each.

The slot engine gives the friendly answer ("that time is not a free slot"); the hold rows give
the guarantee: the database refuses a second booking of a resource at an overlapping time. The
database refuses a family in two places at once the same way (``FamilyBusy``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.planner import Contacts
from scheduler.db import (
    appointments,
    families,
    interpreter_releases,
    message_data,
    new_booking,
    outbox,
    waitlist,
)
from scheduler.db import holds as hold_store
from scheduler.db.appointments import AppointmentView, appointment_table
from scheduler.db.engine import dialect_name
from scheduler.db.tables import Appointment, Family, new_id
from scheduler.domain.errors import ConflictError, FamilyBusy, InvalidInput, NotFound, SlotUnavailable
from scheduler.domain.events import (
    APPOINTMENT_BOOKED,
    APPOINTMENT_CANCELLED,
    APPOINTMENT_CONFIRMED,
    APPOINTMENT_INTERPRETER_CHANGED,
    APPOINTMENT_OUTCOME_RECORDED,
    APPOINTMENT_RESCHEDULED,
    SYSTEM,
    Actor,
)
from scheduler.domain.intervals import Interval, utc
from scheduler.domain.slots import Slot
from scheduler.ports import HolidayCalendar
from scheduler.services import events, interpreters
from scheduler.services.availability import (
    HoldsRead,
    LoadedSearches,
    SlotQuery,
    ensure_known,
    find_slots,
    load_search,
    reach_at,
    slots_at,
)
from scheduler.services.notify import Booked, MessagePlanner

ACTIVE = ("booked", "confirmed")
APPOINTMENT_COLUMNS = tuple(column.name for column in appointment_table.columns)
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
    interpreter_language: str | None = None
    visit_address: str | None = None
    """The family's address, for a home visit (a site of kind ``home``) and only there."""
    attendees: str | None = None
    pathway_id: str | None = None
    """The care pathway the appointment is a session of (``care_pathways``)."""


async def book(
    session: AsyncSession, calendar: HolidayCalendar, planner: MessagePlanner, request: BookingRequest,
    now: datetime, *, actor: Actor = SYSTEM, searches: LoadedSearches | None = None,
) -> AppointmentView:
    """Book the slot starting at ``request.start``: the appointment, or SlotUnavailable.

    The interpreter, when one is asked for, is held in the same transaction: both or neither
    (InterpreterUnavailable rolls the whole booking back). The family's confirmation and
    reminders, and the interpreter's, are queued in the same transaction too. ``searches``: the
    process's loaded searches, so that checking the slot reads the ``rules`` counter and the
    holds only while the rules stay put (``LoadedSearches``).
    """
    if request.interpreter_language is None and dialect_name(session) == "postgresql":
        return await _book_in_two_statements(session, calendar, planner, request, now, actor, searches)
    slot, hold_id = await _take_slot(session, calendar, request, now, searches)
    interpreter = await _take_interpreter(session, calendar, request, slot, now, prefer=None)
    family_id = await _upsert_family(session, request.family, slot.interval.start, now)
    if not request.family.sms_consent:
        # The latest booking states the family's consent: a withdrawal stops its pending texts now.
        await outbox.cancel_pending_for_families(session, [family_id], now)
    appointment, contacts = await _insert(session, request, slot, (hold_id, interpreter), family_id, now)
    if planner.family_links is not None:
        await planner.family_links.issue(session, appointment, now)
    await planner.booked(session, appointment, now, contacts)
    family = request.family
    written = Family(id=family_id, reference=family.reference, phone=family.phone, language=family.language,
                     sms_consent=family.sms_consent, created_at=now, updated_at=now)
    view = AppointmentView(appointment, written, _zone_key(slot))
    await events.record_view(session, APPOINTMENT_BOOKED, actor, view, now)
    return view


async def _book_in_two_statements(
    session: AsyncSession, calendar: HolidayCalendar, planner: MessagePlanner, request: BookingRequest,
    now: datetime, actor: Actor, searches: LoadedSearches | None,
) -> AppointmentView:
    """``book`` on PostgreSQL when no interpreter is asked for: the same checks and writes, the
    writes in two statements (``new_booking``) instead of one per step.

    When the caller names the staff member and this process keeps the search of the start's
    fortnight, the check rides on the first statement: the slot is checked against the kept rules
    without reading anything, and the statement takes the place only while the ``rules`` counter
    is still the one they were loaded at (the holds need no reading: the database refuses a place
    taken or overlapping). Otherwise, or when the rules have moved, the check reads the counter and
    the holds first (``_candidate_slots``).
    """
    family = request.family
    appointment: Appointment | None = None
    outcome: new_booking.Taken | new_booking.Refused = new_booking.Refused(stale=True)
    kept = await _kept_candidates(session, request, now, searches)
    if kept is not None:
        capacity, candidates, rules = kept
        appointment, outcome = await _take_place(session, request, capacity, candidates, now, rules)
    if isinstance(outcome, new_booking.Refused) and outcome.stale:
        capacity, candidates = await _candidate_slots(session, calendar, request, now, searches)
        if not candidates:
            raise _no_slot(request)
        appointment, outcome = await _take_place(session, request, capacity, candidates, now, None)
    if isinstance(outcome, new_booking.Refused) or appointment is None:
        raise _no_slot(request)
    slot = candidates[outcome.place]
    if not outcome.written:
        raise await _visit_address_refused(session, slot, request.visit_address)
    appointment.staff_id, appointment.site_id = slot.resource_id, slot.site_id or ""
    appointment.family_id, appointment.staff_hold_id = outcome.family_id, outcome.hold_id
    if not family.sms_consent:
        # The latest booking states the family's consent: a withdrawal stops its pending texts now.
        await outbox.cancel_pending_for_families(session, [outcome.family_id], now)
    zone = _zone_key(slot)
    consent = outcome.family_consent
    contacts = Contacts(family_phone=family.phone or outcome.family_phone, family_consent=consent,
                        interpreter_phone=None, interpreter_status=None, zone=ZoneInfo(zone),
                        reminder_offsets=outcome.reminder_offsets)
    written = Family(id=outcome.family_id, reference=family.reference, phone=family.phone,
                     language=family.language, sms_consent=family.sms_consent, created_at=now, updated_at=now)
    view = AppointmentView(appointment, written, zone)
    link = planner.family_links.row(appointment, now) if planner.family_links is not None else None
    texts = outbox.rows(planner.booking_texts(appointment, contacts, now), now)
    event = events.appointment_event(APPOINTMENT_BOOKED, actor, view, now)
    await new_booking.after(session, link, texts, event)
    return view


async def _kept_candidates(
    session: AsyncSession, request: BookingRequest, now: datetime, searches: LoadedSearches | None,
) -> tuple[int, list[Slot], int] | None:
    """The capacity and the slots starting then of the named staff member by the search this process
    keeps (holds aside), and the ``rules`` counter it was loaded at; None when there is no such
    search, or it gives no slot then (a refusal is for the full check to give)."""
    if searches is None or request.staff_id is None:
        return None
    kept = searches.kept(session, _fortnight(request))
    if kept is None:
        return None
    rules, search = kept
    wanted = utc(request.start)
    unbooked = HoldsRead(reach_at(search, wanted), [])  # the database refuses what holds would
    matching = await slots_at(session, search, wanted, now, unbooked)
    return (search.spec.capacity, matching, rules) if matching else None


async def _take_place(
    session: AsyncSession, request: BookingRequest, capacity: int, candidates: list[Slot], now: datetime,
    rules_seen: int | None,
) -> tuple[Appointment, new_booking.Taken | new_booking.Refused]:
    """``new_booking.take`` for the request: the new appointment (its staff member, site, family and
    hold still to fill in from the outcome) and the outcome."""
    first, family = candidates[0], request.family
    appointment = _new_appointment(request, first, ("", None), "", now)
    try:
        outcome = await new_booking.take(
            session, [(slot.resource_id, slot.site_id or "") for slot in candidates],
            {"service_id": first.service_id, "starts_at": first.interval.start, "ends_at": first.interval.end,
             "capacity": capacity},
            {"id": new_id(), "reference": family.reference, "phone": family.phone,
             "language": family.language, "sms_consent": family.sms_consent, "updated_at": now},
            {name: getattr(appointment, name) for name in APPOINTMENT_COLUMNS
             if name not in new_booking.FROM_CTES},
            rules_seen,
        )
    except IntegrityError as exc:
        raise _family_busy(exc, first.start) from None
    return appointment, outcome


def _no_slot(request: BookingRequest) -> SlotUnavailable:
    return SlotUnavailable(f"No free slot of this service starts at {request.start.isoformat()}.")


def _zone_key(slot: Slot) -> str:
    """The site's zone, which the engine gave the slot's local times."""
    zone = slot.start.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise TypeError(f"a slot's times carry their site's ZoneInfo, not {zone!r}")
    return zone.key


async def _take_slot(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, now: datetime,
    searches: LoadedSearches | None,
) -> tuple[Slot, str]:
    """Hold a place on the first candidate slot the database lets us take."""
    capacity, candidates = await _candidate_slots(session, calendar, request, now, searches)
    for slot in candidates:
        # With one candidate, a refusal ends the transaction anyway: no savepoint is needed
        # (two statements fewer on the usual path, where the caller names the staff member).
        take = hold_store.try_acquire if len(candidates) > 1 else hold_store.acquire_or_none
        hold_id = await take(session, slot.resource_id, "staff", slot.service_id, slot.interval, capacity)
        if hold_id is not None:
            return slot, hold_id
    raise _no_slot(request)


async def _at_home(session: AsyncSession, slot: Slot) -> bool:
    """Whether the slot is a home visit (its site is of kind ``home``)."""
    return slot.site_id is not None and await appointments.site_kind(session, slot.site_id) == "home"


def _address_required() -> InvalidInput:
    return InvalidInput("A home visit needs the family's address (visit_address).",
                        errors=[{"field": "visit_address", "message": "required for a home visit"}])


async def _visit_address_refused(
    session: AsyncSession, slot: Slot, visit_address: str | None
) -> InvalidInput:
    """Why the appointment's insert wrote nothing: a home visit without the family's address, or an
    address at a site (never kept)."""
    if await _at_home(session, slot) and not visit_address:
        return _address_required()
    return InvalidInput("visit_address is only for a home visit; this slot is at a site.",
                        errors=[{"field": "visit_address", "message": "only for a home visit"}])


def _family_busy(exc: IntegrityError, start: datetime) -> FamilyBusy:
    """The 409 for a write the family's overlap guard refused; any other refusal is re-raised as is."""
    if not appointments.family_overlap(exc):
        raise exc
    return FamilyBusy(f"The family already has an appointment at a time overlapping {start.isoformat()}.")


async def _take_interpreter(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, slot: Slot, now: datetime,
    prefer: str | None,
) -> tuple[str, str] | None:
    """Hold an interpreter for the slot when the request needs one; InterpreterUnavailable otherwise."""
    language = request.interpreter_language
    if not language:
        return None
    taken = await interpreters.take(session, calendar, language, slot.interval, prefer)
    if taken is None:
        raise interpreters.unavailable(
            language, slot.start, await _next_starts(session, calendar, request, now)
        )
    return taken


async def _next_starts(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, now: datetime, count: int = 3
) -> list[datetime]:
    """The next slot starts with an interpreter free, within two weeks: offered in the 409."""
    first = request.start.date()
    query = SlotQuery(
        request.service_id,
        first,
        first + timedelta(days=14),
        request.staff_id,
        request.site_id,
        request.interpreter_language,
    )
    return [slot.start for slot in (await find_slots(session, calendar, query, now))[:count]]


async def _candidate_slots(
    session: AsyncSession, calendar: HolidayCalendar, request: BookingRequest, now: datetime,
    searches: LoadedSearches | None,
) -> tuple[int, list[Slot]]:
    """The service's capacity, and its free slots starting exactly then, least booked staff first.

    What the search loads (the service, rules, openings, absences, closures) is that of the
    fortnight from the Monday before the start's eve: the start's local date may differ from its
    offset's by a day, and bookings of the same fortnight share it in ``searches``. Only the
    holds at the start are read; fairness needs only a count of each candidate's bookings that week.
    """
    query = _fortnight(request)
    wanted = utc(request.start)
    read = None
    if searches is None:
        search = await load_search(session, calendar, query)
    else:
        search, read = await searches.load_with_holds(session, calendar, query,
                                                      lambda kept: reach_at(kept, wanted))
    matching = await slots_at(session, search, wanted, now, read)
    if not matching:
        await ensure_known(session, query)  # an unknown staff member or site is 404, not 409
    if len(matching) < 2:
        return search.spec.capacity, matching
    monday = (wanted - timedelta(days=wanted.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    week = Interval(monday, monday + timedelta(days=7))
    load = Counter(row.resource_id for row in await hold_store.blocking_holds(
        session, [slot.resource_id for slot in matching], week))
    return search.spec.capacity, sorted(
        matching, key=lambda slot: (load[slot.resource_id], slot.resource_id)
    )


def _fortnight(request: BookingRequest) -> SlotQuery:
    """The search a booking checks its slot against: the fortnight from the Monday before the
    start's eve (the start's local date may differ from its offset's by a day), shared by the
    bookings of that fortnight (``LoadedSearches``)."""
    first = request.start.date() - timedelta(days=1)
    first -= timedelta(days=first.weekday())
    return SlotQuery(request.service_id, first, first + timedelta(days=13), request.staff_id, request.site_id)


async def _upsert_family(
    session: AsyncSession, family: FamilyData, starts_at: datetime, now: datetime
) -> str:
    """The family's id, its row created or brought up to date by this booking."""
    return await families.upsert_for_booking(session, family.reference, family.phone, family.language,
                                             family.sms_consent, starts_at, now)


async def _insert(
    session: AsyncSession, request: BookingRequest, slot: Slot, holds: tuple[str, tuple[str, str] | None],
    family_id: str, now: datetime,
) -> tuple[Appointment, Contacts]:
    """The new appointment, and who its texts go to (the insert returns them)."""
    appointment = _new_appointment(request, slot, holds, family_id, now)
    try:
        inserted = await appointments.insert(session, appointment)
    except IntegrityError as exc:
        raise _family_busy(exc, slot.start) from None
    if inserted is None:  # a home visit needs the family's address, and only a home visit takes one
        raise await _visit_address_refused(session, slot, request.visit_address)
    return appointment, message_data.contacts_of(inserted)


def _new_appointment(
    request: BookingRequest, slot: Slot, holds: tuple[str, tuple[str, str] | None], family_id: str,
    now: datetime,
) -> Appointment:
    hold_id, interpreter = holds
    return Appointment(
        interpreter_language=request.interpreter_language,
        interpreter_id=interpreter[0] if interpreter else None,
        interpreter_hold_id=interpreter[1] if interpreter else None,
        interpreter_status="booked" if interpreter else None,
        service_id=slot.service_id,
        staff_id=slot.resource_id,
        site_id=slot.site_id or "",
        family_id=family_id,
        phone=request.family.phone,
        starts_at=slot.interval.start,
        ends_at=slot.interval.end,
        staff_hold_id=hold_id,
        note=request.note,
        visit_address=request.visit_address,
        attendees=request.attendees,
        pathway_id=request.pathway_id,
        created_at=now,
        updated_at=now,
    )


async def get_for_update(session: AsyncSession, appointment_id: str) -> Appointment:
    """The appointment row, locked for the rest of the transaction (PostgreSQL; SQLite is serialised)."""
    appointment = await appointments.locked(session, appointment_id)
    if appointment is None:
        raise NotFound("appointment", appointment_id)
    return appointment


async def cancel(
    session: AsyncSession, planner: MessagePlanner, appointment_id: str, reason: str | None, now: datetime,
    *, actor: Actor = SYSTEM,
) -> Appointment:
    """Cancel and free the slot; cancelling twice changes nothing (and texts nobody twice).

    ``reason`` is staff-only (``cancel_reason``); ``actor`` says who cancelled (``cancelled_by``).
    """
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "cancelled":
        return appointment
    if appointment.status not in ACTIVE:
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be cancelled.")
    await hold_store.release(session, appointment.staff_hold_id)
    if appointment.interpreter_hold_id:
        await hold_store.release(session, appointment.interpreter_hold_id)
        appointment.interpreter_status = "cancelled"
    appointment.status = "cancelled"
    appointment.cancel_reason = reason
    appointment.cancelled_at = now
    appointment.cancelled_by = actor.cancelled_by
    _changed(appointment, now)
    await planner.cancelled(session, appointment, now)
    await events.record_appointment(session, APPOINTMENT_CANCELLED, actor, appointment.id, now)
    await waitlist.wake(session, now)  # the freed slot may go to a waiting family
    return appointment


async def reschedule(
    session: AsyncSession,
    calendar: HolidayCalendar,
    planner: MessagePlanner,
    appointment_id: str,
    start: datetime,
    staff_id: str | None,
    now: datetime,
    site_id: str | None = None,
    *,
    actor: Actor = SYSTEM,
) -> Appointment:
    """Move the appointment to another free slot; on any refusal nothing changes (one transaction).

    It stays at its site and with its staff member unless ``site_id`` or ``staff_id`` names
    another: a start free only elsewhere is SlotUnavailable, never a silent move.
    """
    appointment = await get_for_update(session, appointment_id)
    if appointment.status not in ACTIVE:
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be moved.")
    was = await events.where_it_is(session, appointment)  # the event's ``previous``
    previous = _interpreter_booking(appointment)
    release = interpreter_releases.Release.of(appointment)  # as their feed shows it, before the move
    await hold_store.release(session, appointment.staff_hold_id)
    needs_interpreter = appointment.interpreter_status == "booked"
    if needs_interpreter and appointment.interpreter_hold_id:
        await hold_store.release(session, appointment.interpreter_hold_id)
    request = BookingRequest(
        appointment.service_id, start, FamilyData("", None, "fr", False), staff_id or appointment.staff_id,
        site_id or appointment.site_id,
        interpreter_language=appointment.interpreter_language if needs_interpreter else None,
    )
    slot, hold_id = await _take_slot(session, calendar, request, now, None)
    if not await _at_home(session, slot):
        appointment.visit_address = None  # the family's address is kept only for a visit to it
    elif not appointment.visit_address:
        raise _address_required()
    # The interpreter moves too, or the whole move fails (and this transaction rolls back).
    interpreter = await _take_interpreter(
        session, calendar, request, slot, now, prefer=appointment.interpreter_id
    )
    await families.lock(session, appointment.family_id)  # a booking of the family waits, or we do
    _move(appointment, slot, hold_id, now)
    if interpreter is not None:
        appointment.interpreter_id, appointment.interpreter_hold_id = interpreter
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _family_busy(exc, slot.start) from None
    await families.touch_last_appointment(session, appointment.family_id)
    # The pool may give the new time to another interpreter: the first one is told it is off.
    switched = previous is not None and previous.interpreter_id != appointment.interpreter_id
    if planner.family_links is not None:
        await planner.family_links.issue(session, appointment, now)
    await planner.moved(session, appointment, now, new_interpreter=switched)
    if switched and release is not None:
        await interpreter_releases.record(session, release, now)  # their feed shows it cancelled
    if switched and previous is not None:
        await planner.interpreter_released(session, appointment, previous, now)
    await events.record_appointment(
        session, APPOINTMENT_RESCHEDULED, actor, appointment.id, now, previous=was
    )
    if switched:
        await events.record_appointment(session, APPOINTMENT_INTERPRETER_CHANGED, actor, appointment.id, now)
    return appointment


def _interpreter_booking(appointment: Appointment) -> Booked | None:
    """Where and when the pool's interpreter is booked on the appointment, if one is."""
    if appointment.interpreter_status != "booked" or appointment.interpreter_id is None:
        return None
    return Booked(appointment.interpreter_id, appointment.starts_at, appointment.site_id)


def _move(appointment: Appointment, slot: Slot, hold_id: str, now: datetime) -> None:
    appointment.staff_id = slot.resource_id
    appointment.site_id = slot.site_id or appointment.site_id
    appointment.starts_at = slot.interval.start
    appointment.ends_at = slot.interval.end
    appointment.staff_hold_id = hold_id
    _changed(appointment, now)


async def record_outcome(
    session: AsyncSession, appointment_id: str, status: str, now: datetime, *, actor: Actor = SYSTEM
) -> Appointment:
    """Record whether the family came; only once the appointment has started."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "cancelled":
        raise AppointmentClosed("A cancelled appointment has no outcome.")
    if utc(now) < appointment.starts_at:
        raise AppointmentClosed("The outcome can be recorded once the appointment has started.")
    if appointment.status != status:
        appointment.status = status
        _changed(appointment, now)
        await events.record_appointment(session, APPOINTMENT_OUTCOME_RECORDED, actor, appointment.id, now)
    return appointment


async def confirm(
    session: AsyncSession, appointment_id: str, now: datetime, *, actor: Actor = SYSTEM
) -> Appointment:
    """The family confirmed it will come; confirming twice changes nothing."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status == "booked":
        appointment.status = "confirmed"
        _changed(appointment, now)
        await events.record_appointment(session, APPOINTMENT_CONFIRMED, actor, appointment.id, now)
    elif appointment.status != "confirmed":
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot be confirmed.")
    return appointment


def _changed(appointment: Appointment, now: datetime) -> None:
    appointment.sequence += 1
    appointment.updated_at = now


async def attach_external_interpreter(
    session: AsyncSession, planner: MessagePlanner, appointment_id: str, language: str, agency: str,
    reference: str, now: datetime, *, actor: Actor = SYSTEM,
) -> Appointment:
    """Record an agency's interpreter on an appointment (the pool's one, if any, is released and told)."""
    appointment = await get_for_update(session, appointment_id)
    if appointment.status not in ACTIVE:
        raise AppointmentClosed(f"An appointment marked {appointment.status} cannot get an interpreter.")
    previous = _interpreter_booking(appointment)
    release = interpreter_releases.Release.of(appointment)  # as their feed shows it, before the change
    if appointment.interpreter_hold_id and appointment.interpreter_status == "booked":
        await hold_store.release(session, appointment.interpreter_hold_id)
    appointment.interpreter_language = language
    appointment.interpreter_id = None
    appointment.interpreter_hold_id = None
    appointment.interpreter_status = "external"
    appointment.interpreter_agency = agency
    appointment.interpreter_reference = reference
    _changed(appointment, now)
    if release is not None:
        await interpreter_releases.record(session, release, now)  # their feed shows it cancelled
    if previous is not None:
        await planner.interpreter_released(session, appointment, previous, now)
    await events.record_appointment(session, APPOINTMENT_INTERPRETER_CHANGED, actor, appointment.id, now)
    return appointment
