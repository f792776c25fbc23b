"""What a site's feed marks for its coordinator: appointments to decide on, and outcomes to record.

- *to decide*: active appointments still to end on which a closure of the site, or an absence of
  their staff member (or of the pool interpreter booked on them), falls, and nobody cancelled;
- *no outcome*: active appointments that ended within the last week and have no outcome yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import Absence, Appointment, Closure

appointment = Appointment.__table__  # type: ignore[attr-defined]
absence = Absence.__table__  # type: ignore[attr-defined]
closure = Closure.__table__  # type: ignore[attr-defined]

ACTIVE: Final = ("booked", "confirmed")
TO_DECIDE: Final = "to_decide"
NO_OUTCOME: Final = "no_outcome"
# How long an appointment past its end with no outcome stays marked.
NO_OUTCOME_KEPT: Final = timedelta(days=7)
LONGEST_APPOINTMENT: Final = timedelta(days=1)


def _interrupted() -> ColumnElement[bool]:
    """A closure of the appointment's site, or an absence of its staff member or booked interpreter."""
    closed = exists().where(closure.c.site_id == appointment.c.site_id,
                            closure.c.start < appointment.c.ends_at, closure.c.end > appointment.c.starts_at)
    staff_away = exists().where(
        absence.c.staff_id == appointment.c.staff_id,
        absence.c.start < appointment.c.ends_at, absence.c.end > appointment.c.starts_at,
    )
    interpreter_away = and_(
        appointment.c.interpreter_status == "booked",
        exists().where(absence.c.interpreter_id == appointment.c.interpreter_id,
                       absence.c.start < appointment.c.ends_at, absence.c.end > appointment.c.starts_at),
    )
    return or_(closed, staff_away, interpreter_away)


async def marks(session: AsyncSession, site_id: str, now: datetime, until: datetime) -> dict[str, str]:
    """The marked appointments of a site (starting before ``until``): id → ``to_decide`` or ``no_outcome``."""
    to_decide = select(appointment.c.id, literal_column(f"'{TO_DECIDE}'").label("mark")).where(
        appointment.c.site_id == site_id,
        appointment.c.status.in_(ACTIVE),
        appointment.c.starts_at > now - LONGEST_APPOINTMENT,
        appointment.c.starts_at < until,
        appointment.c.ends_at > now,
        _interrupted(),
    )
    since = now - NO_OUTCOME_KEPT
    no_outcome = select(appointment.c.id, literal_column(f"'{NO_OUTCOME}'").label("mark")).where(
        appointment.c.site_id == site_id,
        appointment.c.status.in_(ACTIVE),
        appointment.c.starts_at > since - LONGEST_APPOINTMENT,
        appointment.c.starts_at < now,
        appointment.c.ends_at <= now,
        appointment.c.ends_at > since,
    )
    rows = (await session.execute(union_all(to_decide, no_outcome))).all()
    return {row.id: row.mark for row in rows}
