"""Choosing another time from an appointment's page: after a cancellation (a closed school, an
absent worker) the family books again; while it is booked, the family moves it (not within the
service's minimum notice, at most ``MAX_MOVES`` times). Either way the page lists the next free
times of the same service, with the same staff member at the same site, and the choice is booked
or moved exactly as the API books or moves. A service may allow any of its staff members
(``rebook_any_staff``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.db import rebooking as store
from scheduler.domain.errors import FamilyBusy, SlotUnavailable
from scheduler.domain.events import FAMILY
from scheduler.domain.intervals import utc
from scheduler.services import booking
from scheduler.services.availability import SlotQuery, find_slots
from scheduler.services.booking import BookingRequest, FamilyData
from scheduler.services.family_links import token_hash, well_formed

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from scheduler.collaborators import Collaborators
    from scheduler.domain.slots import Slot
    from scheduler.ports import HolidayCalendar

SEARCH_DAYS = 28  # four weeks: a permanence every other week still offers two days
SHOWN = 4  # as many buttons as a phone's screen holds without scrolling far
MAX_MOVES = 2  # a family moves an appointment twice at most from its page


def movable(row: Any, moves: int, now: datetime) -> bool:
    """Whether the family may still move its booked appointment: active, not within the service's
    minimum notice, moved fewer than ``MAX_MOVES`` times."""
    notice = timedelta(minutes=row.min_notice_minutes or 0)
    return row.status in booking.ACTIVE and utc(now) + notice < utc(row.starts_at) and moves < MAX_MOVES


async def other_times(deps: Collaborators, token: str, now: datetime) -> list[datetime] | None:
    """The next free starts (in the site's zone) the page offers instead, or None when it offers
    nothing: a cancelled appointment whose family booked again, a booked one it may no longer move."""
    if not well_formed(token):
        return None
    async with deps.db.read() as session:
        row = await store.cancelled_row(session, token_hash(token), now)
        if row is None or not await _choosable(session, row, now):
            return None
        slots = await _free(session, deps.calendar, row, now)
    return [slot.start for slot in slots if utc(slot.start) != utc(row.starts_at)][:SHOWN]


async def _choosable(session: AsyncSession, row: Any, now: datetime) -> bool:
    if row.status == "cancelled":
        return await store.booked_again(session, row.family_id, row.service_id, now) is None
    return movable(row, await store.family_moves(session, row.id), now)


async def rebook(deps: Collaborators, token: str, start: datetime) -> str | None:
    """Book ``start`` for the family of a cancelled appointment, or move its booked appointment
    there, with the same staff member at the same site: the id of the appointment the page should
    now show, or None when the link is dead.

    Once only for a cancelled one: a family that already booked again is sent to that appointment.
    A time taken meanwhile (SlotUnavailable) or overlapping another of the family's appointments
    (FamilyBusy) rolls back and sends the family back to the times left.
    """
    now = deps.clock.now()
    if not well_formed(token):
        return None
    row = None
    try:
        async with deps.db.write() as session:
            row = await store.cancelled_row(session, token_hash(token), now)
            if row is None:
                return None
            if row.status != "cancelled":
                return await _move(deps, session, row, start, now)
            again = await store.booked_again(session, row.family_id, row.service_id, now)
            if again is not None:
                return again
            family = FamilyData(row.reference, row.phone, row.language, row.sms_consent)
            request = BookingRequest(row.service_id, start, family, _staff(row), row.site_id)
            booked = await booking.book(session, deps.calendar, deps.planner, request, now, actor=FAMILY,
                                        searches=deps.searches)
            return booked.appointment.id
    except (SlotUnavailable, FamilyBusy):
        return None if row is None else str(row.id)


async def _move(deps: Collaborators, session: AsyncSession, row: Any, start: datetime, now: datetime) -> str:
    """Move the family's booked appointment to ``start``, when it may still move (else nothing)."""
    if movable(row, await store.family_moves(session, row.id), now) and utc(start) != utc(row.starts_at):
        staff_id = await _staff_free_at(session, deps.calendar, row, start, now)
        await booking.reschedule(session, deps.calendar, deps.planner, row.id, start, staff_id, now,
                                 row.site_id, actor=FAMILY)
    return str(row.id)


def _staff(row: Any) -> str | None:
    """The staff member the page's times are with: the appointment's, or any when the service allows."""
    return None if row.rebook_any_staff else str(row.staff_id)


async def _staff_free_at(
    session: AsyncSession, calendar: HolidayCalendar, row: Any, start: datetime, now: datetime
) -> str:
    """Who the move goes to: the appointment's staff member when free then, else (when the service
    allows any) the first one free at ``start``; the booking code refuses a start nobody has free."""
    if not row.rebook_any_staff:
        return str(row.staff_id)
    day = start.date()
    query = SlotQuery(row.service_id, day - timedelta(days=1), day + timedelta(days=1), None, row.site_id)
    free = [slot.resource_id for slot in await find_slots(session, calendar, query, now)
            if utc(slot.start) == utc(start)]
    return str(row.staff_id) if row.staff_id in free or not free else free[0]


async def _free(session: AsyncSession, calendar: HolidayCalendar, row: Any, now: datetime) -> list[Slot]:
    first = now.date()
    query = SlotQuery(row.service_id, first, first + timedelta(days=SEARCH_DAYS), _staff(row), row.site_id)
    by_start: dict[datetime, Slot] = {}
    for slot in await find_slots(session, calendar, query, now):
        by_start.setdefault(slot.start, slot)  # several staff members free at once: one button
    return list(by_start.values())
