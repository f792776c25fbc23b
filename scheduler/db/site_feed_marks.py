"""What a site's feed marks for its coordinator: appointments to decide on, and outcomes to record.

- *to decide*: active appointments still to end on which a closure of the site, or an absence of
  their staff member (or of the pool interpreter booked on them), falls, and nobody cancelled;
- *no outcome*: active appointments that ended within the last week and have no outcome yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.dialect import as_utc
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
    return (await marks_until(session, site_id, now, until))[0]


async def marks_until(
    session: AsyncSession, site_id: str, now: datetime, until: datetime
) -> tuple[dict[str, str], datetime]:
    """The site's marks (as ``marks``) and the first moment after ``now`` at which they can change
    with time alone, without any write.

    A mark changes with time when an active appointment ends (it may become "no outcome") or
    leaves the "no outcome" week: the earliest end still to come, or the earliest end of a
    "no outcome" one plus the week. The first is looked for among appointments starting within
    a day of ``now`` only: one starting later ends later than ``now`` plus a day, the moment
    returned when none does.
    """
    to_decide = select(
        appointment.c.id, literal_column(f"'{TO_DECIDE}'").label("mark"), appointment.c.ends_at
    ).where(
        appointment.c.site_id == site_id,
        appointment.c.status.in_(ACTIVE),
        appointment.c.starts_at > now - LONGEST_APPOINTMENT,
        appointment.c.starts_at < until,
        appointment.c.ends_at > now,
        _interrupted(),
    )
    since = now - NO_OUTCOME_KEPT
    no_outcome = select(
        appointment.c.id, literal_column(f"'{NO_OUTCOME}'").label("mark"), appointment.c.ends_at
    ).where(
        appointment.c.site_id == site_id,
        appointment.c.status.in_(ACTIVE),
        appointment.c.starts_at > since - LONGEST_APPOINTMENT,
        appointment.c.starts_at < now,
        appointment.c.ends_at <= now,
        appointment.c.ends_at > since,
    )
    rows = (await session.execute(union_all(to_decide, no_outcome))).all()
    horizon = min(now + LONGEST_APPOINTMENT, until)
    next_end = (await session.execute(select(func.min(appointment.c.ends_at)).where(
        appointment.c.site_id == site_id,
        appointment.c.status.in_(ACTIVE),
        appointment.c.starts_at > now - LONGEST_APPOINTMENT,
        appointment.c.starts_at < horizon,
        appointment.c.ends_at > now,
    ))).scalar()
    moments = [now + LONGEST_APPOINTMENT]
    if next_end is not None:
        moments.append(as_utc(next_end))
    moments += [as_utc(row.ends_at) + NO_OUTCOME_KEPT for row in rows if row.mark == NO_OUTCOME]
    return {row.id: row.mark for row in rows}, min(moments)
