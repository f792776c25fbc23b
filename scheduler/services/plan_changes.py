"""When plans change: the active appointments an absence or a site closure falls on, listed for
staff or, when asked, cancelled in the same transaction as the absence or closure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import affected_appointments as affected_store
from scheduler.db.tables import Appointment
from scheduler.domain.events import STAFF
from scheduler.domain.intervals import Interval
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner

REASON_LIMIT = 500  # the appointment's cancel_reason column


@dataclass(frozen=True, slots=True)
class Affected:
    """An appointment an absence or closure falls on, as staff see it in the answer."""

    id: str
    start: datetime
    staff_id: str
    site_id: str
    timezone: str


@dataclass(frozen=True, slots=True)
class WithAffected:
    """An absence or closure row, and the active appointments it falls on (none once cancelled)."""

    row: Any
    affected: list[Affected]


@dataclass(frozen=True, slots=True)
class Change:
    """What falls on appointments: whose (a SQL condition), when, and why (kept for staff)."""

    whose: Any
    period: Interval
    reason: str


async def affected(session: AsyncSession, change: Change, now: datetime) -> list[Affected]:
    """The active appointments still to end that the change falls on."""
    return [listed(appointment, zone) for appointment, zone in
            await affected_store.during(session, change.whose, change.period, now)]


async def settle(
    session: AsyncSession, planner: MessagePlanner, change: Change, cancel: bool, now: datetime
) -> list[Affected]:
    """The appointments the change falls on; with ``cancel``, each is cancelled as an API cancel is
    (holds released, the family's neutral cancellation text queued) and the answer lists them all."""
    found = await affected(session, change, now)
    if cancel:
        for item in found:
            # Recorded as cancelled by staff (event, cancelled_by) in this same transaction.
            await booking.cancel(session, planner, item.id, change.reason[:REASON_LIMIT], now, actor=STAFF)
    return found


def listed(appointment: Appointment, zone: str) -> Affected:
    """How an affected appointment is listed: its start in its site's zone."""
    return Affected(appointment.id, appointment.starts_at, appointment.staff_id, appointment.site_id, zone)
