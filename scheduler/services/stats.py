"""Figures programmes report: interpreter use per language and month."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import appointments
from scheduler.services.periods import start_of

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

COUNTED = ("booked", "confirmed", "attended", "no_show")


async def interpreter_use(
    session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[str, str, int, int]]:
    """(language, "YYYY-MM", appointments, of which external) for interpreted appointments not cancelled.

    The month is the appointment's month in its site's zone.
    """
    total: Counter[tuple[str, str]] = Counter()
    external: Counter[tuple[str, str]] = Counter()
    for row in await appointments.interpreted_between(session, start, end, COUNTED):
        key = (row.interpreter_language, row.starts_at.astimezone(ZoneInfo(row.timezone)).strftime("%Y-%m"))
        total[key] += 1
        external[key] += row.interpreter_status == "external"
    return [
        (language, month, count, external[(language, month)])
        for (language, month), count in sorted(total.items())
    ]


async def interpreter_use_in(deps: Collaborators, first: date, last: date) -> list[tuple[str, str, int, int]]:
    """``interpreter_use`` from ``first`` to ``last``, local dates of mainland France."""
    async with deps.db.read() as session:
        return await interpreter_use(session, start_of(first), start_of(last + timedelta(days=1)))
