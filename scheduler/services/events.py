"""Recording events in the caller's transaction, queueing their webhooks, and reading them back.

``record_appointment`` is what every change to an appointment calls, inside the transaction of
the change: the event and its deliveries commit with it or not at all, so no change goes
unrecorded and no event tells of a change that rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import appointments as appointment_store
from scheduler.db import events as store
from scheduler.db.appointments import AppointmentView
from scheduler.db.event_tables import Event as EventRow
from scheduler.db.tables import Appointment
from scheduler.domain.errors import InvalidInput, NotFound
from scheduler.domain.events import EVENT_TYPES, Actor, Event, FeedPosition, appointment_data, event_json
from scheduler.services.appointment_json import appointment_json

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

UTC_ZONE = ZoneInfo("UTC")


async def record(session: AsyncSession, event: Event) -> Event:
    """Append ``event`` and queue it for every enabled endpoint subscribed to its type; same transaction."""
    return await store.record(session, event)


async def record_appointment(
    session: AsyncSession, event_type: str, actor: Actor, appointment_id: str, now: datetime,
    previous: dict[str, Any] | None = None,
) -> Event:
    """Record a change to an appointment, its data the appointment as it now reads (without the phone).

    Call it after the change, in its transaction: the view is read through the same session.
    """
    view = await appointment_store.view(session, appointment_id)
    if view is None:
        raise NotFound("appointment", appointment_id)
    return await record_view(session, event_type, actor, view, now, previous)


async def record_view(
    session: AsyncSession, event_type: str, actor: Actor, view: AppointmentView, now: datetime,
    previous: dict[str, Any] | None = None,
) -> Event:
    """``record_appointment`` for a caller that holds the appointment's view already (no read)."""
    return await record(session, appointment_event(event_type, actor, view, now, previous))


def appointment_event(
    event_type: str, actor: Actor, view: AppointmentView, now: datetime,
    previous: dict[str, Any] | None = None,
) -> Event:
    """The event of a change to an appointment, its data the appointment as ``view`` shows it."""
    data = appointment_data(appointment_json(view), previous)
    row = view.appointment
    return Event(event_type, now, actor, data, appointment_id=row.id, site_id=row.site_id,
                 pathway_id=row.pathway_id)


async def where_it_is(session: AsyncSession, appointment: Appointment) -> dict[str, Any]:
    """``where_it_was`` of an appointment about to move: read before the move, in its site's zone."""
    zones = await store.site_zones(session, [appointment.site_id])
    zone = zones.get(appointment.site_id, UTC_ZONE).key
    return where_it_was(appointment.starts_at, appointment.ends_at, appointment.staff_id,
                        appointment.site_id, zone)


def where_it_was(
    starts_at: datetime, ends_at: datetime, staff_id: str, site_id: str, zone: str
) -> dict[str, Any]:
    """The ``previous`` of a rescheduled event, its times in the site's zone."""
    tz = ZoneInfo(zone)
    return {"start": starts_at.astimezone(tz).isoformat(), "end": ends_at.astimezone(tz).isoformat(),
            "staff_id": staff_id, "site_id": site_id}


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A page of the event feed and where to read on from."""

    items: list[dict[str, Any]]
    next_cursor: str


async def feed(deps: Collaborators, after: str | None, event_type: str | None, limit: int) -> FeedPage:
    """Events past the cursor, oldest first; ``next_cursor`` always set (the same one when nothing is new)."""
    if event_type is not None and event_type not in EVENT_TYPES:
        raise InvalidInput(f"`type` must be one of {', '.join(EVENT_TYPES)}.")
    async with deps.db.read() as session:
        return await read_feed(session, after, event_type, limit)


async def read_feed(session: AsyncSession, after: str | None, event_type: str | None, limit: int) -> FeedPage:
    """``feed`` in the caller's session."""
    position = FeedPosition.decode(after)
    rows = await store.feed_page(session, position, limit, event_type)
    if rows:
        position = store.position_of(rows[-1])
    return FeedPage(await as_json(session, rows), position.encode())


async def appointment_history(deps: Collaborators, appointment_id: str) -> list[dict[str, Any]]:
    """An appointment's events, oldest first; NotFound for an appointment that never existed."""
    async with deps.db.read() as session:
        rows = await store.for_appointment(session, appointment_id)
        if not rows and await appointment_store.view(session, appointment_id) is None:
            raise NotFound("appointment", appointment_id)
        return await as_json(session, rows)


async def as_json(session: AsyncSession, rows: list[EventRow]) -> list[dict[str, Any]]:
    """The public event objects, ``occurred_at`` in the site's zone (UTC for an event of no site)."""
    zones = await store.site_zones(session, {row.site_id for row in rows if row.site_id})
    return [event_json(row, zones.get(row.site_id or "", UTC_ZONE)) for row in rows]
