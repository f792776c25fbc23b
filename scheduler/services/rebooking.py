"""Choosing another time from the page of a cancelled appointment (a closed school, an absent
worker): the next free times of the same service, with the same staff member at the same site,
and booking one for the same family, as the API books."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.db import rebooking as store
from scheduler.domain.errors import SlotUnavailable
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


async def other_times(deps: Collaborators, token: str, now: datetime) -> list[datetime] | None:
    """The next free starts (in the site's zone) for a cancelled appointment's family; None when
    there is nothing to choose: the appointment is not cancelled, or the family booked again."""
    if not well_formed(token):
        return None
    async with deps.db.read() as session:
        row = await store.cancelled_row(session, token_hash(token), now)
        if row is None or row.status != "cancelled":
            return None
        if await store.booked_again(session, row.family_id, row.service_id, now) is not None:
            return None
        slots = await _free(session, deps.calendar, row, now)
    return [slot.start for slot in slots[:SHOWN]]


async def rebook(deps: Collaborators, token: str, start: datetime) -> str | None:
    """Book ``start`` for the family of a cancelled appointment, with the same staff member at the
    same site: the id of the appointment the page should now show, or None when the link is dead.

    Once only: a family that already booked again is sent to that appointment. A time taken
    meanwhile (SlotUnavailable) rolls back and sends the family back to the times left.
    """
    now = deps.clock.now()
    if not well_formed(token):
        return None
    try:
        async with deps.db.write() as session:
            row = await store.cancelled_row(session, token_hash(token), now)
            if row is None or row.status != "cancelled":
                return None if row is None else str(row.id)
            again = await store.booked_again(session, row.family_id, row.service_id, now)
            if again is not None:
                return again
            family = FamilyData(row.reference, row.phone, row.language, row.sms_consent)
            request = BookingRequest(row.service_id, start, family, row.staff_id, row.site_id)
            return (await booking.book(session, deps.calendar, deps.planner, request, now)).appointment.id
    except SlotUnavailable:
        return str(row.id)


async def _free(session: AsyncSession, calendar: HolidayCalendar, row: Any, now: datetime) -> list[Slot]:
    first = now.date()
    query = SlotQuery(row.service_id, first, first + timedelta(days=SEARCH_DAYS), row.staff_id, row.site_id)
    return await find_slots(session, calendar, query, now)
