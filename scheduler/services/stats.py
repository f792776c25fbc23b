"""Figures programmes report: interpreter use per language and month."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import Appointment, Site

COUNTED = ("booked", "confirmed", "attended", "no_show")


async def interpreter_use(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[str, str, int, int]]:
    """(language, "YYYY-MM", appointments, of which external) for interpreted appointments not cancelled.

    The month is the appointment's month in its site's zone.
    """
    statement = (
        select(Appointment.interpreter_language, Appointment.interpreter_status, Appointment.starts_at, Site.timezone)
        .join(Site, Site.id == Appointment.site_id)  # type: ignore[arg-type]
        .where(
            Appointment.interpreter_language.is_not(None),  # type: ignore[union-attr]
            Appointment.interpreter_status.in_(("booked", "external")),  # type: ignore[union-attr]
            Appointment.status.in_(COUNTED),  # type: ignore[attr-defined]
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    )
    total: Counter[tuple[str, str]] = Counter()
    external: Counter[tuple[str, str]] = Counter()
    for row in (await session.execute(statement)).all():
        key = (row.interpreter_language, row.starts_at.astimezone(ZoneInfo(row.timezone)).strftime("%Y-%m"))
        total[key] += 1
        external[key] += row.interpreter_status == "external"
    return [(language, month, count, external[(language, month)]) for (language, month), count in sorted(total.items())]
