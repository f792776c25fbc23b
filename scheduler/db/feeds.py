"""Feed queries: a token's live feed with its owner's name, and the appointments a feed shows.

Core statements on the tables (no ORM objects): a feed of 20,000 appointments is read as
plain rows. The statements are built once, with bound parameters, per owner kind. (A feed's
version is no query here: it comes from change counters, ``scheduler.db.counters``.)

An interpreter's feed also shows, cancelled, the bookings they were released from while the
appointment lived on (``interpreter_release``): its event statement adds those rows with
UNION ALL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Label,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from scheduler.db.tables import (
    Appointment,
    Family,
    Feed,
    Interpreter,
    InterpreterRelease,
    Service,
    Site,
    Staff,
)

appointment = Appointment.__table__  # type: ignore[attr-defined]
family = Family.__table__  # type: ignore[attr-defined]
feed = Feed.__table__  # type: ignore[attr-defined]
service = Service.__table__  # type: ignore[attr-defined]
site = Site.__table__  # type: ignore[attr-defined]
staff = Staff.__table__  # type: ignore[attr-defined]
interpreter = Interpreter.__table__  # type: ignore[attr-defined]
release = InterpreterRelease.__table__  # type: ignore[attr-defined]

# Owners whose appointments a feed can select, by the column naming them on the appointment.
OWNER_COLUMNS: Final[dict[str, Any]] = {
    "staff": appointment.c.staff_id,
    "site": appointment.c.site_id,
    "interpreter": appointment.c.interpreter_id,
}
LONGEST_APPOINTMENT: Final = timedelta(days=1)
def _as_stored(column: Column[Any], name: str | None = None) -> Label[Any]:
    """A time column as the driver returns it: UTC text on SQLite, an aware datetime on PostgreSQL.

    UTCDateTime's conversion of every value cost about as much as the rest of the query (three
    times per row); the event rows compare the stored values and convert, with
    ``scheduler.db.dialect.as_utc``,
    only those of the few events rendered again.
    """
    return type_coerce(column, NullType()).label(name or column.name)


_sibling = appointment.alias("pathway_sibling")


def _pathway_count(*, up_to_this_one: bool) -> Any:
    """Among the appointment's pathway's sessions not cancelled: how many (start before or at its own)."""
    where = [_sibling.c.pathway_id == appointment.c.pathway_id, _sibling.c.status != "cancelled"]
    if up_to_this_one:
        where.append(_sibling.c.starts_at <= appointment.c.starts_at)
    counted = select(func.count()).select_from(_sibling).where(*where).scalar_subquery()
    # Only a session of a pathway, still on, has a number ("Séance 2/3"); the others read no subquery.
    return case((and_(appointment.c.pathway_id.is_not(None), appointment.c.status != "cancelled"), counted),
                else_=null())


_PATHWAY_SESSION: Final = (
    _pathway_count(up_to_this_one=True).label("pathway_number"),
    _pathway_count(up_to_this_one=False).label("pathway_total"),
)


EVENT_COLUMNS: Final = (
    appointment.c.id,
    appointment.c.status,
    _as_stored(appointment.c.starts_at),
    _as_stored(appointment.c.ends_at),
    appointment.c.sequence,
    _as_stored(appointment.c.updated_at),
    appointment.c.note,
    appointment.c.interpreter_language,
    appointment.c.staff_hold_id,
    appointment.c.site_id,
    family.c.reference,
    service.c.name.label("service_name"),
    service.c.capacity,
    site.c.name.label("site_name"),
    site.c.kind,
    site.c.address,
    site.c.timezone,
    appointment.c.visit_address,
    *_PATHWAY_SESSION,
    appointment.c.attendees,
)

# The same columns for a booking an interpreter was released from: cancelled, at the times, site
# and session it had then, one past the sequence their feed showed; no note or language (their
# feed never shows them, and the appointment's current ones are no longer theirs to render).
RELEASED_EVENT_COLUMNS: Final[tuple[Any, ...]] = (
    appointment.c.id,
    literal_column("'cancelled'").label("status"),
    _as_stored(release.c.starts_at),
    _as_stored(release.c.ends_at),
    release.c.sequence,
    _as_stored(release.c.released_at, "updated_at"),
    null().label("note"),
    null().label("interpreter_language"),
    release.c.staff_hold_id,
    release.c.site_id,
    family.c.reference,
    service.c.name.label("service_name"),
    service.c.capacity,
    site.c.name.label("site_name"),
    site.c.kind,
    site.c.address,
    site.c.timezone,
    null().label("visit_address"),
    null().label("pathway_number"),
    null().label("pathway_total"),
    null().label("attendees"),
)


class EventRow(NamedTuple):
    """One row of ``EVENT_COLUMNS``, in their order; the times as stored (read with
    ``scheduler.db.dialect.as_utc``).

    A plain tuple: equal rows compare equal, and reading a field costs ~20 times less than
    on SQLAlchemy's Row, which counts at 20,000 rows.
    """

    id: str
    status: str
    starts_at: str | datetime
    ends_at: str | datetime
    sequence: int
    updated_at: str | datetime
    note: str | None
    interpreter_language: str | None
    staff_hold_id: str
    site_id: str
    reference: str
    service_name: str
    capacity: int
    site_name: str
    kind: str
    address: str | None
    timezone: str
    visit_address: str | None = None
    """A home visit's address: the service decides which feeds show it."""
    pathway_number: int | None = None
    """A care pathway's session: its place among the pathway's sessions not cancelled (from 1)."""
    pathway_total: int | None = None
    attendees: str | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """Which appointments a feed shows: its owner's, overlapping [start, end), cancelled ones
    only when cancelled (last changed) since ``cancelled_since``."""

    owner_kind: str
    owner_id: str
    start: datetime
    end: datetime
    cancelled_since: datetime

    def parameters(self) -> dict[str, Any]:
        """The values of the bound parameters of :func:`_shown`."""
        # A lower bound on starts_at lets the index bound the scan on both sides; no service
        # lasts a day (durations are capped at 12 hours), so the overlap test decides.
        return {"owner_id": self.owner_id, "earliest_start": self.start - LONGEST_APPOINTMENT,
                "start": self.start, "end": self.end, "cancelled_since": self.cancelled_since}


def _shown(owner_kind: str) -> ColumnElement[bool]:
    """The WHERE clause of a selection (sargable on the (staff_id|site_id, starts_at) indexes)."""
    return and_(
        OWNER_COLUMNS[owner_kind] == bindparam("owner_id"),
        appointment.c.starts_at > bindparam("earliest_start"),
        appointment.c.starts_at < bindparam("end"),
        appointment.c.ends_at > bindparam("start"),
        or_(appointment.c.status != "cancelled", appointment.c.updated_at >= bindparam("cancelled_since")),
    )


def _released_shown() -> ColumnElement[bool]:
    """The WHERE clause of the released bookings an interpreter's feed shows (on the
    (interpreter_id, released_at) index): released within the cancellation window, overlapping
    [start, end) as booked then, and only while the appointment names someone else: booked back
    on it, the interpreter sees its own event instead (one UID per feed)."""
    return and_(
        release.c.interpreter_id == bindparam("owner_id"),
        release.c.released_at >= bindparam("cancelled_since"),
        release.c.starts_at > bindparam("earliest_start"),
        release.c.starts_at < bindparam("end"),
        release.c.ends_at > bindparam("start"),
        or_(appointment.c.interpreter_id.is_(None), appointment.c.interpreter_id != release.c.interpreter_id),
    )


def _live_feed_statement() -> Select[Any]:
    return (
        select(feed.c.id, feed.c.owner_kind, feed.c.owner_id, feed.c.privacy, feed.c.created_at,
               func.coalesce(staff.c.name, site.c.name, interpreter.c.name).label("owner_name"))
        .outerjoin(staff, and_(feed.c.owner_kind == "staff", staff.c.id == feed.c.owner_id))
        .outerjoin(site, and_(feed.c.owner_kind == "site", site.c.id == feed.c.owner_id))
        .outerjoin(interpreter, and_(feed.c.owner_kind == "interpreter", interpreter.c.id == feed.c.owner_id))
        # A feed of a deleted staff member, site or interpreter is gone with its owner.
        .where(feed.c.token_hash == bindparam("token_hash"), feed.c.revoked_at.is_(None),
               func.coalesce(staff.c.id, site.c.id, interpreter.c.id).is_not(None))
    )


def _events_statement(owner_kind: str) -> Select[Any] | CompoundSelect[Any]:
    appointments = (
        select(*EVENT_COLUMNS)
        .select_from(appointment.join(family, family.c.id == appointment.c.family_id)
                     .join(service, service.c.id == appointment.c.service_id)
                     .join(site, site.c.id == appointment.c.site_id))
        .where(_shown(owner_kind))
    )
    if owner_kind != "interpreter":
        return appointments
    released = (
        select(*RELEASED_EVENT_COLUMNS)
        .select_from(release.join(appointment, appointment.c.id == release.c.appointment_id)
                     .join(family, family.c.id == appointment.c.family_id)
                     .join(service, service.c.id == appointment.c.service_id)
                     .join(site, site.c.id == release.c.site_id))
        .where(_released_shown())
    )
    return union_all(appointments, released)


LIVE_FEED: Final = _live_feed_statement()
EVENT_ROWS: Final = {owner_kind: _events_statement(owner_kind) for owner_kind in OWNER_COLUMNS}


async def live_feed(session: AsyncSession, token_hash: str) -> Any:
    """The unrevoked feed with this token hash and its owner's name (staff, site or interpreter), or None
    (also when its owner was deleted)."""
    return (await session.execute(LIVE_FEED, {"token_hash": token_hash})).first()


async def revoke(session: AsyncSession, token_hash: str, now: datetime, feed_id: str | None = None,
                 sites: list[str] | None = None) -> bool:
    """Mark the live feed with this token hash (or this id) revoked; False when there is none (or,
    with ``sites``, when it is not the feed of one of those sites)."""
    matching = feed.c.token_hash == token_hash if feed_id is None else or_(
        feed.c.token_hash == token_hash, feed.c.id == feed_id)
    statement = feed.update().where(matching, feed.c.revoked_at.is_(None)).values(revoked_at=now)
    if sites is not None:
        statement = statement.where(feed.c.owner_kind == "site", feed.c.owner_id.in_(sites))
    result: Any = await session.execute(statement)
    return bool(result.rowcount)


async def revoke_owned(session: AsyncSession, owner_kind: str, owner_id: str, now: datetime) -> int:
    """Revoke every live feed of an owner (a staff member who leaves); how many."""
    result: Any = await session.execute(
        feed.update().where(feed.c.owner_kind == owner_kind, feed.c.owner_id == owner_id,
                            feed.c.revoked_at.is_(None)).values(revoked_at=now))
    return int(result.rowcount or 0)


async def owned(session: AsyncSession, owner_kind: str, owner_id: str) -> list[Any]:
    """The live feeds of an owner, oldest first: (id, privacy, created_at, last_fetched_at)."""
    statement = (select(feed.c.id, feed.c.privacy, feed.c.created_at, feed.c.last_fetched_at)
                 .where(feed.c.owner_kind == owner_kind, feed.c.owner_id == owner_id,
                        feed.c.revoked_at.is_(None))
                 .order_by(feed.c.created_at, feed.c.id))
    return list((await session.execute(statement)).all())


async def event_rows(session: AsyncSession, selection: Selection) -> list[EventRow]:
    """Every appointment shown, with its family reference, service and site, in one statement
    (and, in an interpreter's feed, every booking they were released from, as cancelled rows)."""
    result = await session.execute(EVENT_ROWS[selection.owner_kind], selection.parameters())
    return [EventRow._make(row) for row in result.all()]
