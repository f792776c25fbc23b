"""Interpreters released from appointments that live on: written with the release, read by their feeds.

When a move gives an appointment to another interpreter, or an agency's interpreter takes it
over, ``appointment.interpreter_id`` names someone else and the first interpreter's feed would
silently lose the event. A row here keeps it there, cancelled, for as long as a cancellation
is kept (scheduler/services/feeds.py, CANCELLED_KEPT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.dialect import PerDialect, insert_for
from scheduler.db.tables import Appointment, InterpreterRelease, new_id

release_table = InterpreterRelease.__table__  # type: ignore[attr-defined]
# What a release replaces when the same interpreter is released again from the same appointment.
SNAPSHOT: Final = ("starts_at", "ends_at", "site_id", "staff_hold_id", "sequence", "released_at")


@dataclass(frozen=True, slots=True)
class Release:
    """A pool interpreter's booking on an appointment, as their feed shows it, taken before it changes.

    The released event keeps these times and this site: it is the booking the interpreter had
    that is cancelled, wherever the appointment goes next (which is none of their business).
    """

    appointment_id: str
    interpreter_id: str
    starts_at: datetime
    ends_at: datetime
    site_id: str
    staff_hold_id: str
    sequence: int

    @classmethod
    def of(cls, appointment: Appointment) -> Release | None:
        """The booking of the appointment's pool interpreter, or None when it has none."""
        if appointment.interpreter_status != "booked" or appointment.interpreter_id is None:
            return None
        return cls(appointment.id, appointment.interpreter_id, appointment.starts_at, appointment.ends_at,
                   appointment.site_id, appointment.staff_hold_id, appointment.sequence)


def _record_statement(dialect: str) -> Any:
    insert = insert_for(dialect, release_table).values(
        id=bindparam("id"),
        appointment_id=bindparam("appointment_id"),
        interpreter_id=bindparam("interpreter_id"),
        **{name: bindparam(name) for name in SNAPSHOT},
    )
    return insert.on_conflict_do_update(
        index_elements=["appointment_id", "interpreter_id"],
        set_={name: getattr(insert.excluded, name) for name in SNAPSHOT},
    )


RECORD: Final = PerDialect(_record_statement)


async def record(session: AsyncSession, release: Release, now: datetime) -> None:
    """Record, in the caller's transaction, that the interpreter of ``release`` is off the appointment.

    The event's SEQUENCE is one past the one the interpreter's feed showed, so calendars take
    the cancellation as newer. Released again (booked back, then off again), the row is
    replaced: its sequence only grows, since the appointment's did in between.
    """
    await session.execute(RECORD.of(session), {
        "id": new_id(), "appointment_id": release.appointment_id, "interpreter_id": release.interpreter_id,
        "starts_at": release.starts_at, "ends_at": release.ends_at, "site_id": release.site_id,
        "staff_hold_id": release.staff_hold_id, "sequence": release.sequence + 1, "released_at": now,
    })


async def purge_older_than(session: AsyncSession, before: datetime) -> int:
    """Delete the releases made before ``before`` (their feeds no longer show them); how many."""
    result = await session.execute(delete(release_table).where(release_table.c.released_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
