"""The waiting list through the API: add a family (for a service, or for an earlier time than its
appointment), read entries in order of arrival with their position, take one off the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from scheduler.db import appointments as appointment_store
from scheduler.db import families
from scheduler.db import waitlist as store
from scheduler.db.tables import Family, Service, Site, Staff
from scheduler.db.waitlist_tables import WaitlistEntry
from scheduler.domain.errors import InvalidInput, NotFound
from scheduler.domain.intervals import utc
from scheduler.services import paging
from scheduler.services.booking import ACTIVE, AppointmentClosed, FamilyData

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from scheduler.collaborators import Collaborators


@dataclass(frozen=True, slots=True)
class EntrySpec:
    """A validated request to wait (family phone already in E.164)."""

    service_id: str
    family: FamilyData | None
    site_id: str | None = None
    staff_id: str | None = None
    earliest: datetime | None = None
    latest: datetime | None = None
    appointment_id: str | None = None


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry, its family's reference and language, and its place in the queue (None once off it)."""

    entry: WaitlistEntry
    reference: str
    language: str
    position: int | None


async def create(deps: Collaborators, spec: EntrySpec) -> EntryView:
    """Add the family at the end of the service's list (a 404 for an unknown service, site, staff
    member or appointment; 409 for an appointment no longer to come)."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        await _require(session, spec)
        family_id = await _family_of(session, spec, now)
        entry = await store.add(session, WaitlistEntry(
            service_id=spec.service_id, site_id=spec.site_id, staff_id=spec.staff_id, family_id=family_id,
            appointment_id=spec.appointment_id, earliest=spec.earliest, latest=spec.latest,
            created_at=now, updated_at=now))
        await store.wake(session, now)  # a time may be free already
        return await _view(session, entry)


async def _require(session: AsyncSession, spec: EntrySpec) -> None:
    if await session.get(Service, spec.service_id) is None:
        raise NotFound("service", spec.service_id)
    if spec.site_id is not None and await session.get(Site, spec.site_id) is None:
        raise NotFound("site", spec.site_id)
    if spec.staff_id is not None and await session.get(Staff, spec.staff_id) is None:
        raise NotFound("staff member", spec.staff_id)
    if spec.earliest is not None and spec.latest is not None and utc(spec.latest) <= utc(spec.earliest):
        raise InvalidInput("latest must come after earliest.",
                           errors=[{"field": "latest", "message": "must come after earliest"}])


async def _family_of(session: AsyncSession, spec: EntrySpec, now: datetime) -> str:
    """The waiting family: the appointment's, or the one the request describes."""
    if spec.appointment_id is None:
        if spec.family is None:
            raise InvalidInput("family is required without appointment_id.",
                               errors=[{"field": "family", "message": "required without appointment_id"}])
        family = spec.family
        return await families.upsert_for_booking(session, family.reference, family.phone, family.language,
                                                 family.sms_consent, now, now)
    appointment = await appointment_store.locked(session, spec.appointment_id)
    if appointment is None:
        raise NotFound("appointment", spec.appointment_id)
    if appointment.service_id != spec.service_id:
        raise InvalidInput("The appointment is of another service.",
                           errors=[{"field": "service_id", "message": "must be the appointment's service"}])
    if appointment.status not in ACTIVE or utc(appointment.starts_at) <= utc(now):
        raise AppointmentClosed("Only an appointment still to come can be had earlier.")
    return appointment.family_id


async def get(deps: Collaborators, entry_id: str) -> EntryView:
    """One entry (404 when unknown)."""
    async with deps.db.read() as session:
        entry = await store.get(session, entry_id)
        if entry is None:
            raise NotFound("waiting list entry", entry_id)
        return await _view(session, entry)


async def page(
    deps: Collaborators, service_id: str | None, status: str | None, cursor: str | None, limit: int
) -> paging.PageOf[EntryView]:
    """Entries in order of arrival, ``limit`` at a time."""
    async with deps.db.read() as session:
        rows = await store.page(session, service_id, status, _after(cursor), limit)
        cut = paging.cut(rows, limit, lambda entry: (str(entry.arrival), entry.id))
        positions = await store.positions(session, cut.rows)
        views = [await _view(session, entry, positions.get(entry.id)) for entry in cut.rows]
    return paging.PageOf(views, cut.next_cursor)


def _after(cursor: str | None) -> tuple[int, str] | None:
    """Where a page stopped: the last entry's arrival and id."""
    if not cursor:
        return None
    arrival, ident = paging.decode_cursor(cursor, 2)
    if not arrival.isdigit() or len(arrival) > 12:
        raise InvalidInput(paging.FORGED)
    return int(arrival), ident


async def cancel(deps: Collaborators, entry_id: str) -> None:
    """Take the family off the list (its open offer lapses); a booked entry stays booked."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        entry = await store.get(session, entry_id, lock=True)
        if entry is None:
            raise NotFound("waiting list entry", entry_id)
        if entry.status in store.ACTIVE:
            entry.status = "cancelled"
            entry.updated_at = now
            await store.withdraw_offers(session, entry.id, now)


async def _view(session: AsyncSession, entry: WaitlistEntry, position: int | None = -1) -> EntryView:
    family = await session.get(Family, entry.family_id)
    if position == -1:
        position = (await store.positions(session, [entry])).get(entry.id)
    return EntryView(entry, family.reference if family else "", family.language if family else "fr", position)
