"""Feed queries: a token's live feed with its owner's name, and the appointments a feed shows.

Core statements on the tables (no ORM objects): a feed of 20,000 appointments is read as
plain rows, and the version query is a single GROUP BY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import Appointment, Family, Feed, Interpreter, Service, Site, Staff

appointment = Appointment.__table__  # type: ignore[attr-defined]
family = Family.__table__  # type: ignore[attr-defined]
feed = Feed.__table__  # type: ignore[attr-defined]
service = Service.__table__  # type: ignore[attr-defined]
site = Site.__table__  # type: ignore[attr-defined]
staff = Staff.__table__  # type: ignore[attr-defined]
interpreter = Interpreter.__table__  # type: ignore[attr-defined]

# Owners whose appointments a feed can select. Interpreter feeds exist in the table, but an
# appointment does not name its interpreter yet: the interpreter issue adds its column here.
OWNER_COLUMNS: Final[dict[str, Any]] = {
    "staff": appointment.c.staff_id, "site": appointment.c.site_id, "interpreter": appointment.c.interpreter_id,
}
LONGEST_APPOINTMENT: Final = timedelta(days=1)
# What the body shows of a service and a site: any change to them must change the version.
SHOWN_ATTRIBUTES: Final = (service.c.id, service.c.name, service.c.capacity, site.c.id, site.c.name, site.c.kind,
                           site.c.address, site.c.timezone)
EVENT_COLUMNS: Final = (
    appointment.c.id, appointment.c.status, appointment.c.starts_at, appointment.c.ends_at, appointment.c.sequence,
    appointment.c.updated_at, appointment.c.note, appointment.c.interpreter_language, appointment.c.staff_hold_id,
    appointment.c.site_id, family.c.reference, service.c.name.label("service_name"), service.c.capacity,
    site.c.name.label("site_name"), site.c.kind, site.c.address, site.c.timezone,
)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which appointments a feed shows: its owner's, overlapping [start, end), cancelled ones
    only when cancelled (last changed) since ``cancelled_since``."""

    owner_kind: str
    owner_id: str
    start: datetime
    end: datetime
    cancelled_since: datetime


async def live_feed(session: AsyncSession, token_hash: str) -> Any:
    """The unrevoked feed with this token hash and its owner's name (staff, site or interpreter), or None."""
    statement = (
        select(feed.c.id, feed.c.owner_kind, feed.c.owner_id, feed.c.privacy, feed.c.created_at,
               func.coalesce(staff.c.name, site.c.name, interpreter.c.name).label("owner_name"))
        .outerjoin(staff, and_(feed.c.owner_kind == "staff", staff.c.id == feed.c.owner_id))
        .outerjoin(site, and_(feed.c.owner_kind == "site", site.c.id == feed.c.owner_id))
        .outerjoin(interpreter, and_(feed.c.owner_kind == "interpreter", interpreter.c.id == feed.c.owner_id))
        .where(feed.c.token_hash == token_hash, feed.c.revoked_at.is_(None))
    )
    return (await session.execute(statement)).first()


async def revoke(session: AsyncSession, token_hash: str, now: datetime) -> bool:
    """Mark the live feed with this token hash revoked; False when there is none."""
    statement = (
        feed.update().where(feed.c.token_hash == token_hash, feed.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    result: Any = await session.execute(statement)
    return bool(result.rowcount)


async def version_groups(session: AsyncSession, selection: Selection) -> list[tuple[Any, ...]]:
    """Per (service, site) shown: its attributes, the count, latest ``updated_at`` and summed sequence.

    The appointments are aggregated first and only the few groups joined to their service and
    site: joining every row before grouping made this query five times slower on SQLite.
    Sorted, so equal contents give equal lists whatever order the database returns.
    """
    groups = (
        select(appointment.c.service_id, appointment.c.site_id, func.count().label("shown"),
               func.max(appointment.c.updated_at).label("latest"), func.sum(appointment.c.sequence).label("changes"))
        .where(shown(selection))
        .group_by(appointment.c.service_id, appointment.c.site_id)
        .subquery()
    )
    statement = (
        select(*SHOWN_ATTRIBUTES, groups.c.shown, groups.c.latest, groups.c.changes)
        .select_from(groups.join(service, service.c.id == groups.c.service_id)
                     .join(site, site.c.id == groups.c.site_id))
    )
    return sorted(tuple(row) for row in (await session.execute(statement)).all())


async def event_rows(session: AsyncSession, selection: Selection) -> Sequence[Any]:
    """Every appointment shown, with its family reference, service and site, in one statement."""
    statement = (
        select(*EVENT_COLUMNS)
        .select_from(appointment.join(family, family.c.id == appointment.c.family_id)
                     .join(service, service.c.id == appointment.c.service_id)
                     .join(site, site.c.id == appointment.c.site_id))
        .where(shown(selection))
    )
    return (await session.execute(statement)).all()


def shown(selection: Selection) -> ColumnElement[bool]:
    """The WHERE clause of a selection (sargable on the (staff_id|site_id, starts_at) indexes)."""
    return and_(
        OWNER_COLUMNS[selection.owner_kind] == selection.owner_id,
        # A lower bound on starts_at lets the index bound the scan on both sides; no service
        # lasts a day (durations are capped at 12 hours), so the overlap test below decides.
        appointment.c.starts_at > selection.start - LONGEST_APPOINTMENT,
        appointment.c.starts_at < selection.end,
        appointment.c.ends_at > selection.start,
        or_(appointment.c.status != "cancelled", appointment.c.updated_at >= selection.cancelled_since),
    )
