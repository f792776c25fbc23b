"""The appointment figures programmes report, counted by the database in one GROUP BY statement.

Dates are local to each site: an appointment belongs to the month and weekday of its start in
its site's zone. The statement joins each appointment to the stretch of constant UTC offset of
its site's zone that holds its start (``scheduler.domain.offset_periods``, a few literal rows
per zone), and shifts the start by that offset: correct across daylight saving time, and the
same statement on SQLite (no time zones) and PostgreSQL. The stretches also bound the period:
an appointment counts when its start falls between ``from`` 00:00 and ``to`` 24:00 at its site.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Integer, and_, case, func, literal, null, select, text, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, Subquery
from sqlmodel import col

from scheduler.db.engine import dialect_name
from scheduler.db.local_time import LocalMonth, LocalWeekday, SecondsBetween
from scheduler.db.tables import Appointment, Family, Site
from scheduler.db.waitlist_tables import WaitlistOffer
from scheduler.domain.offset_periods import OffsetPeriod

# The dimensions a report may group by, and the column each one is named in a row.
GROUP_COLUMNS: Final = {
    "site": "site_id", "service": "service_id", "staff": "staff_id", "month": "month",
    "weekday": "weekday", "language": "language", "cancelled_by": "cancelled_by",
}
FIGURES: Final = (
    "booked", "attended", "no_show", "cancelled", "cancelled_late", "families", "first_appointments",
    "with_interpreter", "home_visits", "sms_sent", "sms_segments", "waitlist_refills",
)
LATE_CANCELLATION = timedelta(hours=24)
REPORT_WORK_MEM = "64MB"
HOME_KIND = "home"


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """The period (as offset stretches of every zone concerned), the sites kept, and the grouping."""

    periods: Sequence[OffsetPeriod]
    group_by: Sequence[str]
    site_ids: Sequence[str] | None = None


async def site_zones(session: AsyncSession, site_ids: Sequence[str] | None) -> list[str]:
    """The distinct zones of the sites (all sites when ``site_ids`` is None)."""
    statement = select(col(Site.timezone)).distinct()
    if site_ids is not None:
        statement = statement.where(col(Site.id).in_(site_ids))
    return sorted((await session.execute(statement)).scalars())


@dataclass(frozen=True, slots=True)
class Figures:
    """One dict per group (its keys, then every figure) in the order of the keys, and the totals."""

    rows: list[dict[str, Any]]
    totals: dict[str, int]


async def appointment_figures(session: AsyncSession, query: StatsQuery) -> Figures:
    """The groups and the totals, from one statement."""
    if not query.periods:
        return Figures([], dict.fromkeys(FIGURES, 0))
    found = (await session.execute(figures_statement(query, dialect_name(session)))).mappings().all()
    rows = [{name: value for name, value in row.items() if name != TOTAL_MARK} for row in found]
    totals = next((row for row, source in zip(rows, found, strict=True) if source[TOTAL_MARK]), {})
    groups = [row for row, source in zip(rows, found, strict=True) if not source[TOTAL_MARK]]
    return Figures(groups, {name: int(totals.get(name) or 0) for name in FIGURES})


TOTAL_MARK = "is_total"


def figures_statement(query: StatsQuery, dialect: str = "sqlite") -> Any:
    """SELECT keys, SUM(flags) ... GROUP BY keys, and the same sums over every row (the totals).

    On PostgreSQL one pass: ``GROUP BY GROUPING SETS ((keys), ())``, the totals row marked by
    ``GROUPING()``. SQLite has no grouping sets: the grouped rows are UNION ALLed with the totals,
    both read from one common table of one row per appointment (materialised once).
    """
    if dialect == "postgresql" and query.group_by:
        return _grouping_sets(query)
    per_appointment = _per_appointment(query).cte("per_appointment")
    keys = [per_appointment.c[GROUP_COLUMNS[name]] for name in query.group_by]
    sums = _sums(per_appointment)
    totals = select(literal(1).label(TOTAL_MARK), *[null().label(key.name) for key in keys], *sums)
    if not keys:
        return totals.select_from(per_appointment)
    grouped = select(literal(0).label(TOTAL_MARK), *keys, *sums).group_by(*keys)
    ordered = union_all(grouped, totals.select_from(per_appointment)).subquery("figures")
    return select(ordered).order_by(ordered.c[TOTAL_MARK], *[ordered.c[key.name] for key in keys])


def _grouping_sets(query: StatsQuery) -> Any:
    per_appointment = _per_appointment(query).subquery("per_appointment")
    keys = [per_appointment.c[GROUP_COLUMNS[name]] for name in query.group_by]
    total = func.grouping(*keys).cast(Integer)
    # GROUPING(k1, k2) is a bit mask: all bits set on the totals row, none on a group's.
    mark = case((total == 0, 0), else_=1).label(TOTAL_MARK)
    statement = select(mark, *keys, *_sums(per_appointment)).group_by(
        func.grouping_sets(tuple_(*keys), tuple_()))
    return statement.order_by(mark, *keys)


def _sums(per_appointment: Any) -> list[Any]:
    sums: list[Any] = [
        func.coalesce(func.sum(per_appointment.c[name]), 0).label(name)
        for name in FIGURES if name != "families"
    ]
    return [*sums, func.count(per_appointment.c.family_id.distinct()).label("families")]


def _periods(periods: Sequence[OffsetPeriod]) -> CTE:
    """The offset stretches as a small literal table (bound parameters, a few rows per zone)."""
    starts_type = Appointment.__table__.c.starts_at.type  # type: ignore[attr-defined]
    rows = [
        select(literal(p.zone).label("zone"), literal(p.starts, starts_type).label("starts"),
               literal(p.ends, starts_type).label("ends"), literal(p.offset_minutes, Integer).label("offset"))
        for p in periods
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).cte("offset_period")


def _per_appointment(query: StatsQuery) -> Any:
    period = _periods(query.periods)
    starts = col(Appointment.starts_at)
    status = col(Appointment.status)
    firsts = first_appointments()
    refills = waitlist_refills()
    # Only the keys asked for: each costs a function call (or a join) per appointment.
    keys: dict[str, Callable[[], Any]] = {
        "site": lambda: col(Appointment.site_id), "service": lambda: col(Appointment.service_id),
        "staff": lambda: col(Appointment.staff_id), "month": lambda: LocalMonth(starts, period.c.offset),
        "weekday": lambda: LocalWeekday(starts, period.c.offset), "language": lambda: col(Family.language),
        "cancelled_by": lambda: col(Appointment.cancelled_by),
    }
    statement: Any = (
        select(
            *[keys[name]().label(GROUP_COLUMNS[name]) for name in query.group_by],
            col(Appointment.family_id).label("family_id"),
            literal(1).label("booked"),
            _flag(status == "attended").label("attended"),
            _flag(status == "no_show").label("no_show"),
            _flag(status == "cancelled").label("cancelled"),
            _flag(_cancelled_late()).label("cancelled_late"),
            _flag(and_(status != "cancelled", starts == firsts.c.first_start)).label("first_appointments"),
            _flag(col(Appointment.interpreter_language).is_not(None)).label("with_interpreter"),
            _flag(col(Site.kind) == HOME_KIND).label("home_visits"),
            # Counted on the appointment as each SMS is sent (``scheduler.db.outbox``): no outbox join.
            col(Appointment.sms_sent).label("sms_sent"),
            col(Appointment.sms_segments).label("sms_segments"),
            _flag(refills.c.appointment_id.is_not(None)).label("waitlist_refills"),
        )
        .join(Site, col(Site.id) == col(Appointment.site_id))
        .outerjoin(firsts, firsts.c.family_id == col(Appointment.family_id))
        .outerjoin(refills, refills.c.appointment_id == col(Appointment.id))
        .join(period, and_(period.c.zone == col(Site.timezone), starts >= period.c.starts,
                           starts < period.c.ends))
        # The widest bounds first, on the indexed column; the join above then keeps each zone's own.
        .where(starts >= min(p.starts for p in query.periods), starts < max(p.ends for p in query.periods))
    )
    if "language" in query.group_by:
        statement = statement.join(Family, col(Family.id) == col(Appointment.family_id))
    if query.site_ids is not None:
        statement = statement.where(col(Appointment.site_id).in_(query.site_ids))
    return statement


def waitlist_refills() -> Subquery:
    """The appointments booked (or moved) into a freed slot through a waiting-list offer, before its
    start (an offer lapses when its time begins): the cancelled hours the list saved."""
    return (
        select(col(WaitlistOffer.appointment_id).label("appointment_id"))
        .where(col(WaitlistOffer.status) == "claimed", col(WaitlistOffer.appointment_id).is_not(None))
        .distinct()
        .subquery("waitlist_refill")
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _cancelled_late() -> ColumnElement[bool]:
    """Cancelled less than 24 h before its start (or after it)."""
    cancelled_at = col(Appointment.cancelled_at)
    return and_(
        col(Appointment.status) == "cancelled", cancelled_at.is_not(None),
        SecondsBetween(col(Appointment.starts_at), cancelled_at) < LATE_CANCELLATION.total_seconds(),
    )


def first_appointments() -> Subquery:
    """Each family's first start, of its appointments not cancelled (ever, anywhere).

    Read from the index on (family_id, starts_at, status) alone, then joined by family: a hash
    join on PostgreSQL where a correlated NOT EXISTS per appointment took most of the time.
    """
    return (
        select(col(Appointment.family_id).label("family_id"),
               func.min(col(Appointment.starts_at)).label("first_start"))
        .where(col(Appointment.status) != "cancelled")
        .group_by(col(Appointment.family_id))
        .subquery("first_visit")
    )


async def tune_for_report(session: AsyncSession) -> None:
    """On PostgreSQL, room for the report's sorts and hashes in memory, and no JIT, for this transaction.

    The default ``work_mem`` (4 MB) sends a year's sort to disk; the literal offset table leaves
    row estimates low, which would start JIT compilation (200 ms) for a query that runs once.
    """
    if dialect_name(session) == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
        await session.execute(text("SET LOCAL jit = off"))
