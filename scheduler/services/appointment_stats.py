"""Appointment figures for a period, grouped as asked: validation, then one read transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from scheduler.db import stats_appointments as store
from scheduler.db.engine import Database
from scheduler.domain.errors import InvalidInput
from scheduler.domain.offset_periods import OffsetPeriod, offset_periods

GROUPS = tuple(store.GROUP_COLUMNS)
FIGURES = store.FIGURES
LONGEST_PERIOD = timedelta(days=3 * 366)


@dataclass(frozen=True, slots=True)
class StatsRequest:
    """Local dates ``first`` to ``last`` (both included, at each site), optional sites, a grouping."""

    first: date
    last: date
    group_by: tuple[str, ...] = ()
    site_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AppointmentStats:
    """One row per group (its keys, then the figures), and the figures of the whole period."""

    request: StatsRequest
    rows: list[dict[str, Any]]
    totals: dict[str, int]

    @property
    def key_columns(self) -> list[str]:
        """The names of the group columns, in the order asked."""
        return [store.GROUP_COLUMNS[name] for name in self.request.group_by]


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """``"site,month"`` → ``("site", "month")``; an unknown or repeated name is a 422."""
    if text is None or not text.strip():
        return ()
    names = tuple(name.strip() for name in text.split(","))
    unknown = [name for name in names if name not in store.GROUP_COLUMNS]
    if unknown:
        choices = ", ".join(GROUPS)
        raise InvalidInput(f"Cannot group by {unknown[0]!r}: use any of {choices}.", field="group_by")
    if len(set(names)) != len(names):
        raise InvalidInput("Each grouping may appear once in `group_by`.", field="group_by")
    return names


def check_period(first: date, last: date) -> None:
    """`to` on or after `from`, and within 3 years of it."""
    if last < first or last - first > LONGEST_PERIOD:
        raise InvalidInput("`to` must be on or after `from` and within 3 years of it.", field="to")


async def appointment_stats(db: Database, request: StatsRequest) -> AppointmentStats:
    """Counts per group and in total, both computed by the database in one transaction."""
    check_period(request.first, request.last)
    async with db.read() as session:
        await store.tune_for_report(session)
        zones = await store.site_zones(session, request.site_ids)
        periods = periods_of(zones, request.first, request.last)
        found = await store.appointment_figures(
            session, store.StatsQuery(periods, request.group_by, request.site_ids))
    return AppointmentStats(request, found.rows, found.totals)


def periods_of(zones: Sequence[str], first: date, last: date) -> list[OffsetPeriod]:
    """The offset stretches of every zone over the local dates ``first`` to ``last``."""
    return [period for zone in zones for period in offset_periods(zone, first, last)]

