"""Care pathway use cases: book a family's course of sessions as one, read, list, add a session, close.

Each session is an appointment booked through ``booking.book`` (the slot, the staff member's
hold, the family's overlap guard, the interpreter), all in ONE transaction: every session or
none. A refusal names the session that failed and the next time it could take instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import pathways as store
from scheduler.db.appointments import AppointmentView
from scheduler.db.pathways import PathwayRow
from scheduler.db.tables import Appointment, Family, Pathway, new_id
from scheduler.domain.errors import (
    ConflictError,
    FamilyBusy,
    InterpreterUnavailable,
    InvalidInput,
    NotFound,
    SlotUnavailable,
)
from scheduler.domain.events import PATHWAY_BOOKED, PATHWAY_CLOSED, SYSTEM, Actor, Event
from scheduler.domain.intervals import utc
from scheduler.ports import HolidayCalendar
from scheduler.services import booking, events, idempotency
from scheduler.services.availability import SlotQuery, find_slots
from scheduler.services.booking import BookingRequest, FamilyData
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.notify import MessagePlanner
from scheduler.services.paging import PageOf, after_instant, cut
from scheduler.services.pathway_texts import SessionPlanner, queue_closing, queue_confirmation

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.services.api_keys import Principal

ACTIVE = ("booked", "confirmed")
NEXT_AVAILABLE_DAYS = 28
"""How far after a refused session's start its ``next_available`` is looked for."""
REFUSALS = (SlotUnavailable, FamilyBusy, InterpreterUnavailable)


class PathwayClosed(ConflictError):
    """Adding to a pathway that is closed or completed."""

    code = "pathway-closed"
    title = "Pathway closed"


@dataclass(frozen=True, slots=True)
class SessionWanted:
    """One session asked for: its start and who is expected."""

    start: datetime
    attendees: str | None = None


@dataclass(frozen=True, slots=True)
class PathwayRequest:
    """A validated request to book a pathway (sessions in start order)."""

    service_id: str
    family: FamilyData
    sessions: Sequence[SessionWanted]
    staff_id: str | None = None
    site_id: str | None = None
    interpreter_language: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PathwayView:
    """A pathway, its family, its site's zone and its sessions; ``status`` as it reads at ``now``."""

    pathway: Pathway
    family: Family
    timezone: str
    sessions: list[Appointment]
    now: datetime

    @property
    def status(self) -> str:
        """``closed``, ``completed`` (every session past or cancelled) or ``active``."""
        if self.pathway.status == "closed":
            return "closed"
        if any(item.status in ACTIVE and utc(item.ends_at) > utc(self.now) for item in self.sessions):
            return "active"
        return "completed"

    def as_json(self, *, times_as_text: bool = True) -> dict[str, Any]:
        """The pathway as the API shows it, its times in the site's zone."""
        zone = ZoneInfo(self.timezone)

        def local(moment: datetime | None) -> str | datetime | None:
            if moment is None:
                return None
            shown = moment.astimezone(zone)
            return shown.isoformat() if times_as_text else shown

        pathway, family = self.pathway, self.family
        phone = next((item.phone for item in reversed(self.sessions) if item.phone), None) or family.phone
        return {
            "id": pathway.id,
            "status": self.status,
            "service_id": pathway.service_id,
            "staff_id": pathway.staff_id,
            "site_id": pathway.site_id,
            "family": {
                "reference": family.reference,
                "phone": phone,
                "language": family.language,
                "sms_consent": family.sms_consent,
            },
            "interpreter_language": pathway.interpreter_language,
            "note": pathway.note,
            "sessions": [
                {
                    "appointment_id": item.id,
                    "start": local(item.starts_at),
                    "end": local(item.ends_at),
                    "attendees": item.attendees,
                    "status": item.status,
                }
                for item in self.sessions
            ],
            "created_at": local(pathway.created_at),
            "updated_at": local(pathway.updated_at),
            "closed_at": local(pathway.closed_at),
            "close_reason": pathway.close_reason,
        }


class _Refused(Exception):
    """A session was refused: which one, why, and with whom the earlier sessions were booked."""

    def __init__(self, index: int, error: ConflictError, staff_id: str | None, site_id: str | None) -> None:
        super().__init__(error.detail)
        self.index, self.error, self.staff_id, self.site_id = index, error, staff_id, site_id


def check_sessions(sessions: Sequence[SessionWanted]) -> None:
    """Sessions must come in start order, each after the previous: InvalidInput otherwise."""
    for index in range(1, len(sessions)):
        if utc(sessions[index].start) <= utc(sessions[index - 1].start):
            raise InvalidInput(
                "`sessions` must be in start order, each after the previous one.",
                errors=[
                    {"field": f"sessions[{index}].start", "message": "not after the previous session's start"}
                ],
            )


async def book(
    deps: Collaborators,
    caller: Principal,
    wanted: PathwayRequest,
    request: IdempotentRequest | None,
    render: Callable[[PathwayView], Created],
) -> Created | StoredResponse:
    """Book every session of a pathway or none; answer with ``render`` (replayed for a repeated key).

    Raises:
        SlotUnavailable, FamilyBusy, InterpreterUnavailable: a session was refused; ``failed_session``
            (its index) and ``next_available`` (its next free start, or null) say which and what instead.
    """
    check_sessions(wanted.sessions)
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        return render(await book_in(session, deps.calendar, deps.planner, wanted, now, actor=caller.actor))

    try:
        return await idempotency.create(deps.db, request, operation, now)
    except _Refused as refused:
        raise await _explained(deps, wanted, refused, now) from None


async def book_in(
    session: AsyncSession,
    calendar: HolidayCalendar,
    planner: MessagePlanner,
    wanted: PathwayRequest,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
) -> PathwayView:
    """``book`` in the caller's transaction: on a refusal the caller must roll it back (``_Refused``)."""
    pathway_id = new_id()
    quiet = SessionPlanner.of(planner)
    staff_id, site_id = wanted.staff_id, wanted.site_id
    views: list[AppointmentView] = []
    for index, item in enumerate(wanted.sessions):
        request = BookingRequest(
            wanted.service_id,
            item.start,
            wanted.family,
            staff_id,
            site_id,
            wanted.note,
            wanted.interpreter_language,
            attendees=item.attendees,
            pathway_id=pathway_id,
        )
        try:
            view = await booking.book(session, calendar, quiet, request, now, actor=actor)
        except REFUSALS as exc:
            raise _Refused(index, exc, staff_id, site_id) from None
        staff_id, site_id = view.appointment.staff_id, view.appointment.site_id
        views.append(view)
    first = views[0]
    pathway = Pathway(
        id=pathway_id,
        service_id=wanted.service_id,
        staff_id=first.appointment.staff_id,
        site_id=first.appointment.site_id,
        family_id=first.appointment.family_id,
        interpreter_language=wanted.interpreter_language,
        note=wanted.note,
        created_at=now,
        updated_at=now,
    )
    await store.insert(session, pathway)
    found = PathwayView(pathway, first.family, first.timezone, [view.appointment for view in views], now)
    await queue_confirmation(session, planner, found.sessions, now)
    await _record(session, PATHWAY_BOOKED, actor, found, now)
    return found


async def _explained(
    deps: Collaborators, wanted: PathwayRequest, refused: _Refused, now: datetime
) -> ConflictError:
    """The refusal's 409, with the failed session's index and its next free start (same staff, site)."""
    error = refused.error
    item = wanted.sessions[refused.index]
    start = utc(item.start)
    query = SlotQuery(
        wanted.service_id,
        item.start.date(),
        item.start.date() + timedelta(days=NEXT_AVAILABLE_DAYS),
        refused.staff_id,
        refused.site_id,
        wanted.interpreter_language,
    )
    others = [utc(other.start) for index, other in enumerate(wanted.sessions) if index != refused.index]
    async with deps.db.read() as session:
        slots = await find_slots(session, deps.calendar, query, now)
        end = start + timedelta(days=NEXT_AVAILABLE_DAYS + 2)
        busy = await store.family_busy(session, None, wanted.family.reference, start, end)
    taken = [(utc(begin), utc(finish)) for begin, finish in busy]
    following = next(
        (
            slot
            for slot in slots
            if slot.interval.start > start
            and not any(slot.interval.start < finish and begin < slot.interval.end for begin, finish in taken)
            and not any(slot.interval.start <= other < slot.interval.end for other in others)
        ),
        None,
    )
    extra = dict(error.extra)
    extra["failed_session"] = refused.index
    extra["next_available"] = following.start.isoformat() if following is not None else None
    detail = f"Session {refused.index} cannot be booked: {error.detail} Nothing was booked."
    return type(error)(detail, **extra)


async def read(deps: Collaborators, pathway_id: str) -> PathwayView:
    """A pathway with its sessions, or NotFound."""
    async with deps.db.read() as session:
        return await _view(session, pathway_id, deps.clock.now())


async def page(
    deps: Collaborators, family_reference: str | None, status: str | None, cursor: str | None, limit: int
) -> PageOf[PathwayView]:
    """A page of pathways, oldest first, filtered by family and status."""
    after = after_instant(cursor)
    now = deps.clock.now()
    async with deps.db.read() as session:
        rows = await store.page(session, family_reference, status, now, after, limit)
        sessions = await store.sessions(session, [found.pathway.id for found in rows])
    views = [
        PathwayView(found.pathway, found.family, found.timezone, sessions[found.pathway.id], now)
        for found in rows
    ]
    return cut(views, limit, lambda view: (view.pathway.created_at.isoformat(), view.pathway.id))


async def add_session(
    deps: Collaborators,
    caller: Principal,
    pathway_id: str,
    wanted: SessionWanted,
    request: IdempotentRequest | None,
    render: Callable[[PathwayView], Created],
) -> Created | StoredResponse:
    """One more session, with the pathway's staff member at its site; its own confirmation is texted.

    Raises:
        PathwayClosed: the pathway is closed or completed.
    """
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        pathway = await _locked(session, pathway_id)
        current = await _view(session, pathway_id, now)
        if current.status != "active":
            raise PathwayClosed(f"This pathway is {current.status}: no session can be added.")
        family = current.family
        phone = current.as_json()["family"]["phone"]
        request = BookingRequest(
            pathway.service_id,
            wanted.start,
            FamilyData(family.reference, phone, family.language, family.sms_consent),
            pathway.staff_id,
            pathway.site_id,
            pathway.note,
            pathway.interpreter_language,
            attendees=wanted.attendees,
            pathway_id=pathway.id,
        )
        await booking.book(session, deps.calendar, deps.planner, request, now, actor=caller.actor,
                           searches=deps.searches)
        pathway.updated_at = now
        return render(await _view(session, pathway_id, now))

    return await idempotency.create(deps.db, request, operation, now)


async def close(deps: Collaborators, caller: Principal, pathway_id: str, reason: str | None) -> PathwayView:
    """Close a pathway: its sessions still to come are cancelled, with one text for all of them."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        await close_in(session, deps.planner, pathway_id, reason, now, actor=caller.actor)
        return await _view(session, pathway_id, now)


async def close_in(
    session: AsyncSession,
    planner: MessagePlanner,
    pathway_id: str,
    reason: str | None,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
) -> None:
    """``close`` in the caller's transaction; closing twice changes nothing."""
    pathway = await _locked(session, pathway_id)
    if pathway.status == "closed":
        return
    current = await _view(session, pathway_id, now)
    to_come = [item for item in current.sessions if item.status in ACTIVE and utc(item.starts_at) > utc(now)]
    quiet = SessionPlanner.of(planner)
    for item in to_come:
        await booking.cancel(session, quiet, item.id, reason, now, actor=actor)
    await queue_closing(session, planner, pathway_id, to_come, now)
    await _mark_closed(session, pathway, reason, now, actor)


async def close_when_nothing_left(
    session: AsyncSession, pathway_id: str, now: datetime, *, actor: Actor = SYSTEM
) -> bool:
    """Close a pathway none of whose sessions is still to come (the family cancelled the last one);
    whether it was closed now. Its sessions' own texts were already queued."""
    pathway = await _locked(session, pathway_id)
    if pathway.status == "closed":
        return False
    current = await _view(session, pathway_id, now)
    if any(item.status in ACTIVE and utc(item.starts_at) > utc(now) for item in current.sessions):
        return False
    await _mark_closed(session, pathway, None, now, actor)
    return True


async def _mark_closed(
    session: AsyncSession, pathway: Pathway, reason: str | None, now: datetime, actor: Actor
) -> None:
    pathway.status = "closed"
    pathway.close_reason = reason
    pathway.closed_at = now
    pathway.updated_at = now
    await session.flush()
    await _record(session, PATHWAY_CLOSED, actor, await _view(session, pathway.id, now), now)


async def _record(
    session: AsyncSession, event_type: str, actor: Actor, view: PathwayView, now: datetime
) -> None:
    """The pathway's event, in the caller's transaction; its data the pathway without the family's phone."""
    shown = view.as_json()
    shown["family"] = {key: value for key, value in shown["family"].items() if key != "phone"}
    await events.record(
        session,
        Event(
            event_type,
            now,
            actor,
            {"pathway": shown},
            site_id=view.pathway.site_id,
            pathway_id=view.pathway.id,
        ),
    )


async def _locked(session: AsyncSession, pathway_id: str) -> Pathway:
    pathway = await store.locked(session, pathway_id)
    if pathway is None:
        raise NotFound("pathway", pathway_id)
    return pathway


async def _view(session: AsyncSession, pathway_id: str, now: datetime) -> PathwayView:
    found: PathwayRow | None = await store.row(session, pathway_id)
    if found is None:
        raise NotFound("pathway", pathway_id)
    sessions = (await store.sessions(session, [pathway_id]))[pathway_id]
    return PathwayView(found.pathway, found.family, found.timezone, sessions, now)
