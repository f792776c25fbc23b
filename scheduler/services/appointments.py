"""Appointment use cases for the API: book, read, list, cancel, move, record the outcome, attach an
agency's interpreter and revoke the family's link. Each opens and owns its transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import appointments as store
from scheduler.db import family_links as link_store
from scheduler.db.appointments import AppointmentView
from scheduler.db.tables import Appointment
from scheduler.domain.errors import NotFound
from scheduler.domain.intervals import utc
from scheduler.services import admin, booking, idempotency
from scheduler.services.booking import BookingRequest
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf, after_instant, cut
from scheduler.services.periods import day_bounds

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.services.api_keys import Principal

__all__ = [
    "AppointmentView", "BookingRequest", "attach_external_interpreter", "book", "cancel", "page", "read",
    "record_outcome", "reschedule", "revoke_family_link",
]


async def book(
    deps: Collaborators, caller: Principal, wanted: BookingRequest, request: IdempotentRequest | None,
    render: Callable[[AppointmentView], Created],
) -> Created | StoredResponse:
    """Book a slot and answer with ``render`` of the appointment (replayed for a repeated key)."""
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        booked = await booking.book(session, deps.calendar, deps.planner, wanted, now, actor=caller.actor,
                                    searches=deps.searches)
        return render(booked)

    return await idempotency.create(deps.db, request, operation, now)


async def read(deps: Collaborators, appointment_id: str) -> AppointmentView:
    """An appointment with its family and site's zone, or NotFound."""
    async with deps.db.read() as session:
        return await _view(session, appointment_id)


async def page(
    deps: Collaborators, staff_id: str | None, site_id: str | None, status: str | None,
    first: date | None, last: date | None, cursor: str | None, limit: int, *, service_id: str | None = None,
    family_reference: str | None = None, updated_since: datetime | None = None,
) -> PageOf[AppointmentView]:
    """A page of appointments by start then id, filtered; the dates are local to mainland France.

    ``updated_since``: only those changed at or after that instant (booked, moved, cancelled...).
    """
    where = store.AppointmentFilter(staff_id, site_id, status, *day_bounds(first, last),
                                    service_id=service_id, family_reference=family_reference,
                                    updated_since=utc(updated_since) if updated_since else None)
    after = after_instant(cursor)
    async with deps.db.read() as session:
        found = await store.page(session, where, after, limit)
    return cut(found, limit, lambda view: (view.appointment.starts_at.isoformat(), view.appointment.id))


async def cancel(
    deps: Collaborators, caller: Principal, appointment_id: str, reason: str | None
) -> AppointmentView:
    """Cancel and free the slot (see ``booking.cancel``)."""
    async with deps.db.write() as session:
        await booking.cancel(session, deps.planner, appointment_id, reason, deps.clock.now(),
                             actor=caller.actor)
        return await _view(session, appointment_id)


async def reschedule(
    deps: Collaborators, caller: Principal, appointment_id: str, start: datetime, staff_id: str | None,
    site_id: str | None = None,
) -> AppointmentView:
    """Move an appointment to the slot starting at ``start``, at its site and with its staff member
    unless named (see ``booking.reschedule``)."""
    async with deps.db.write() as session:
        await booking.reschedule(session, deps.calendar, deps.planner, appointment_id, start, staff_id,
                                 deps.clock.now(), site_id, actor=caller.actor)
        return await _view(session, appointment_id)


async def record_outcome(
    deps: Collaborators, caller: Principal, appointment_id: str, status: str
) -> AppointmentView:
    """Record whether the family came."""
    async with deps.db.write() as session:
        await booking.record_outcome(session, appointment_id, status, deps.clock.now(), actor=caller.actor)
        return await _view(session, appointment_id)


async def attach_external_interpreter(
    deps: Collaborators, caller: Principal, appointment_id: str, language: str, agency: str, reference: str
) -> AppointmentView:
    """Record an agency's interpreter on an appointment."""
    async with deps.db.write() as session:
        await booking.attach_external_interpreter(session, deps.planner, appointment_id, language, agency,
                                                  reference, deps.clock.now(), actor=caller.actor)
        return await _view(session, appointment_id)


async def revoke_family_link(deps: Collaborators, appointment_id: str) -> None:
    """The family's page link of an appointment stops answering, for good."""
    async with deps.db.write() as session:
        await admin.get(session, Appointment, appointment_id, "appointment")
        await link_store.revoke(session, appointment_id, deps.clock.now())


async def _view(session: AsyncSession, appointment_id: str) -> AppointmentView:
    found = await store.view(session, appointment_id)
    if found is None:
        raise NotFound("appointment", appointment_id)
    return found
