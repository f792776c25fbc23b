"""Free slots of a service: load the rules and absences once, then walk the window calling the pure engine."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import absences, closures, counters, service_specs
from scheduler.db import holds as hold_store
from scheduler.db import openings as opening_store
from scheduler.db import rules as rule_store
from scheduler.db.access import access_of
from scheduler.db.tables import Site, Staff
from scheduler.domain import rules as rules_mod
from scheduler.domain.calendars import ClosedDays
from scheduler.domain.errors import NotFound
from scheduler.domain.free_time import with_free_companion
from scheduler.domain.intervals import Interval, resolve_local
from scheduler.domain.rules import WeeklyRule
from scheduler.domain.slots import (
    Candidate,
    Position,
    ServiceSpec,
    Slot,
    bookable_starts,
    free_slots,
    grid,
    outside,
    page,
    place,
    subtract,
    to_slots,
)
from scheduler.domain.zones import PARIS
from scheduler.ports import HolidayCalendar
from scheduler.services import interpreters


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """What a caller asks for: a service's free slots on a range of local dates."""

    service_id: str
    first: date
    last: date
    staff_id: str | None = None
    site_id: str | None = None
    interpreter_language: str | None = None


async def get_service(session: AsyncSession, service_id: str) -> ServiceSpec:
    """The service's spec, or NotFound."""
    spec = await service_specs.spec(session, service_id)
    if spec is None:
        raise NotFound("service", service_id)
    return spec


@dataclass(frozen=True, slots=True)
class SlotPage:
    """The first free slots of a search after a position, and whether more follow."""

    slots: list[Slot]
    more: bool
    service: ServiceSpec
    depends_on: tuple[str, ...] = ()
    """The change counters whose values it holds for (``scheduler.db.counters``): ``rules`` (the
    service, rules, openings, absences, closures) and the holds of each staff member searched
    (and of each pool interpreter, with a language)."""


@dataclass(slots=True)
class LoadedSearch:
    """What one search loads once, before it walks its window."""

    query: SlotQuery
    spec: ServiceSpec
    weekly: list[WeeklyRule]
    extra: list[rules_mod.OpenStretch]
    window: Interval
    staff_ids: list[str]
    closed: ClosedDays
    busy: dict[str, list[Interval]]
    closures: dict[str, list[Interval]]
    # The rules' openings of each local date, worked out the first time ``slots_within`` and
    # ``unbooked_starts`` need them (a series search asks for the same dates several times).
    by_day: dict[date, list[rules_mod.OpenStretch]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HoldsRead:
    """Holds already read over ``reach`` (``hold_store.BLOCKING``'s rows), for the stretch reaching it."""

    reach: Interval
    rows: list[Any]


FIRST_STRETCH = timedelta(days=1)  # the shortest first stretch of a page's search; each next one doubles
SEARCHES_KEPT: Final = 512


class LoadedSearches:
    """What searches load before their holds (the service, rules, openings, absences, closures),
    kept per process by query while the ``rules`` change counter stays as it was.

    Every write to those rows raises ``rules`` in its own transaction, whichever process made it
    (``scheduler.db.counters``), so a search loaded from here is the one the database gives now:
    an uncached search then costs one counter read before its holds, instead of five queries.
    The holds are always read fresh. Least recently used out past ``max_entries``.
    """

    def __init__(self, max_entries: int = SEARCHES_KEPT) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, LoadedSearch]] = OrderedDict()
        self._max_entries = max_entries
        self.loads = 0
        """Searches loaded from the database so far (misses)."""

    def __len__(self) -> int:
        return len(self._entries)

    def kept(self, session: AsyncSession, query: SlotQuery) -> tuple[int, LoadedSearch] | None:
        """The search kept for ``query`` and the ``rules`` counter it was loaded at, without checking
        that counter (no database read): for a caller that checks it in its own statement."""
        return self._entries.get((query, access_of(session)))

    async def load_with_holds(
        self, session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery,
        reach_of: Callable[[LoadedSearch], Interval | None],
    ) -> tuple[LoadedSearch, HoldsRead | None]:
        """``load``, and when the search is kept, the holds over ``reach_of(search)`` read in the same
        statement as the counter (one round trip instead of two). No holds read: the search was
        loaded afresh, or there is no reach."""
        kept = self._entries.get((query, access_of(session)))
        reach = None if kept is None else reach_of(kept[1])
        if kept is None or reach is None:
            return await self.load(session, calendar, query), None
        seq, search = kept
        rules, rows = await hold_store.blocking_holds_and_counter(session, counters.RULES, search.staff_ids,
                                                                  reach)
        if rules != seq:  # the rules moved since: load the search again (its staff may differ)
            return await self.load(session, calendar, query), None
        self._entries.move_to_end((query, access_of(session)))
        return search, HoldsRead(reach, rows)

    async def load(self, session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery) -> LoadedSearch:
        """The loaded search of ``query``, from memory if ``rules`` has not moved since (read in
        ``session``'s snapshot, before anything it guards)."""
        rules = (await counters.read(session, (counters.RULES,))).seqs[0]
        key = (query, access_of(session))
        kept = self._entries.get(key)
        if kept is not None and kept[0] == rules:
            self._entries.move_to_end(key)
            return kept[1]
        search = await _search(session, calendar, query)
        self.loads += 1
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (rules, search)
        return search


async def find_slots(
    session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery, now: datetime
) -> list[Slot]:
    """Free slots of ``query.service_id`` between two local dates, ordered by start then staff."""
    return (await find_slot_page(session, calendar, query, now)).slots


async def find_slot_page(
    session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery, now: datetime,
    after: Position | None = None, limit: int | None = None, searches: LoadedSearches | None = None,
) -> SlotPage:
    """The first ``limit`` free slots after ``after`` (UTC start, staff), in ``find_slots``'s order.

    Slots are searched in start order over growing stretches of the window (one day, two,
    four...), so a page near the start of a long range reads only its first days. Without a
    limit, the whole window is one stretch: every slot. ``searches``: where to keep what the
    search loads before its holds, for the next search of the same query (``LoadedSearches``).
    """
    wanted = None if limit is None else limit + 1  # one more tells whether another page follows
    read: HoldsRead | None = None
    if searches is None:
        search = await _search(session, calendar, query)
    else:
        search, read = await searches.load_with_holds(
            session, calendar, query,
            lambda kept: _first_reach(kept, now, after, _first_stretch(kept, wanted)))
    companions: dict[str, list[Interval]] | None = None
    depends_on = (counters.RULES, *(counters.key("staff", staff_id) for staff_id in search.staff_ids))
    found: list[Slot] = []
    for stretch in _stretches(search, now, after, _first_stretch(search, wanted)):
        slots = await _slots_in(session, search, stretch, now, after, None if query.interpreter_language
                                else _still_wanted(wanted, found), read)
        if query.interpreter_language and slots:
            if companions is None:  # the pool's free time, read once and only when needed
                pool = await interpreters.pool(session, query.interpreter_language)
                depends_on += tuple(counters.key("interpreter", ident) for ident in pool.ids)
                companions = await interpreters.free_time_of(session, calendar, pool, query.first, query.last)
            slots = with_free_companion(slots, companions)[:_still_wanted(wanted, found)]
        found += slots
        if wanted is not None and len(found) >= wanted:
            break
    if not found:
        await _ensure_known(session, query)
    return SlotPage(found[:limit], limit is not None and len(found) > limit, search.spec, depends_on)


async def slots_at(
    session: AsyncSession, search: LoadedSearch, start: datetime, now: datetime,
    read: HoldsRead | None = None,
) -> list[Slot]:
    """The free slots of a loaded search that start exactly at ``start`` (UTC), by staff member:
    what a booking of that time may take. Only the holds around ``start`` are read (or ``read``,
    when they were already: ``reach_at``)."""
    return await _slots_in(session, search, _at(start), now, None, None, read)


def _at(start: datetime) -> Interval:
    return Interval.of_utc(start, start + _ONE_TICK)


def reach_at(search: LoadedSearch, start: datetime) -> Interval:
    """What ``slots_at`` reads the holds over, for a slot starting at ``start`` (UTC)."""
    return _reach(search, _at(start))


def _reach(search: LoadedSearch, stretch: Interval) -> Interval:
    """Slots starting in the stretch may end up to one duration after it: the holds read."""
    return Interval.of_utc(stretch.start, stretch.end + search.spec.duration)


def _first_reach(search: LoadedSearch, now: datetime, after: Position | None, first: timedelta | None
                 ) -> Interval | None:
    """The holds the first stretch of a page's search reads (None: nothing to search)."""
    stretch = next(_stretches(search, now, after, first), None)
    return None if stretch is None else _reach(search, stretch)


async def _ensure_known(session: AsyncSession, query: SlotQuery) -> None:
    """NotFound for a staff member or site the query names that does not exist.

    Asked only when a search finds nothing, so the usual search pays no query for it.
    """
    for table, kind, ident in ((Staff, "staff member", query.staff_id), (Site, "site", query.site_id)):
        if ident and await session.get(table, ident) is None:
            raise NotFound(kind, ident)


def _still_wanted(wanted: int | None, found: list[Slot]) -> int | None:
    return None if wanted is None else wanted - len(found)


async def _search(session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery) -> LoadedSearch:
    """The service, rules, extra openings, closed days, absences and site closures of a search."""
    spec = await get_service(session, query.service_id)
    weekly = await rule_store.of_service(session, query.service_id, query.first, query.last, query.staff_id,
                                         query.site_id)
    zones = {rule.zone for rule in weekly} or {PARIS}
    window = _window(query.first, query.last, zones)
    extra = await opening_store.of_service(session, query.service_id, window, query.staff_id, query.site_id)
    staff_ids = sorted({rule.resource_id for rule in weekly} | {o.resource_id for o in extra})
    closed = calendar.closed_days(
        {rule.holiday_calendar for rule in weekly},
        {rule.school_zone for rule in weekly if rule.follows_school_calendar and rule.school_zone},
        query.first,
        query.last,
    )
    busy = await absences.overlapping(session, staff_ids, window)
    site_ids = sorted(
        {rule.site_id for rule in weekly if rule.site_id} | {o.site_id for o in extra if o.site_id}
    )
    closed_sites = await closures.overlapping(session, site_ids, window)
    return LoadedSearch(query, spec, weekly, extra, window, staff_ids, closed, busy, closed_sites)


async def load_search(session: AsyncSession, calendar: HolidayCalendar, query: SlotQuery) -> LoadedSearch:
    """What a search over ``query``'s dates loads once, for ``slots_on_days`` to read from many times.

    Raises:
        NotFound: the service does not exist.
    """
    return await _search(session, calendar, query)


# Where a slot may be, bookings aside: (UTC start, staff member, site id or "", the site's zone).
UnbookedStart = tuple[datetime, str, str, ZoneInfo]


def unbooked_starts(search: LoadedSearch, first: date, last: date, now: datetime) -> list[UnbookedStart]:
    """Where the slots on local dates ``first`` to ``last`` may start, holds aside, in order.

    Every free slot of those dates starts at one of them (bookings only take some away); no query
    is needed to know them.
    """
    window = _window(first, last, _zones(search))
    starts = bookable_starts(search.spec, window, now)
    if starts is None:
        return []
    spec = search.spec
    openings = _openings_on(search, first, last, starts, None)
    candidates = outside(subtract(grid(openings, spec, starts), search.busy, spec.duration), search.closures,
                         spec.duration)
    return sorted((start, resource, opening.site_id or "", opening.zone)
                  for start, resource, opening in candidates)


async def slots_within(session: AsyncSession, search: LoadedSearch, windows: list[Interval], now: datetime,
                       staff_ids: Collection[str]) -> list[Slot]:
    """The free slots of some staff members starting in disjoint UTC windows (within the loaded search's).

    The slots ``find_slots`` gives there (without an interpreter), from a search loaded once: only
    the holds of those staff members over the windows are read, in one query.
    """
    spec = search.spec
    candidates: list[Candidate] = []
    reaches: list[Interval] = []
    for window in windows:
        if not (window.start < search.window.end and search.window.start < window.end):
            continue
        inside = Interval.of_utc(max(window.start, search.window.start), min(window.end, search.window.end))
        starts = bookable_starts(spec, inside, now)
        if starts is None:
            continue
        # A weekly rule's opening gives starts on its own local date only: the window's dates in each zone.
        zones = _zones(search)
        first = max(search.query.first, min(starts.start.astimezone(z).date() for z in zones))
        last = min(search.query.last, max((starts.end - _ONE_TICK).astimezone(z).date() for z in zones))
        candidates += grid(_openings_on(search, first, last, starts, staff_ids), spec, starts)
        reaches.append(Interval.of_utc(starts.start, starts.end + spec.duration))
    if not candidates:
        return []
    candidates = outside(subtract(candidates, search.busy, spec.duration), search.closures, spec.duration)
    open_staff = sorted({resource for _start, resource, _opening in candidates})
    rows = await hold_store.blocking_holds_within(session, open_staff, reaches)
    return to_slots(page(place(candidates, [hold_store.as_hold(row) for row in rows], spec)), spec)


_ONE_TICK = timedelta(microseconds=1)


def _zones(search: LoadedSearch) -> set[ZoneInfo]:
    return {rule.zone for rule in search.weekly} or {PARIS}


def _openings_on(search: LoadedSearch, first: date, last: date, starts: Interval,
                 staff_ids: Collection[str] | None) -> list[rules_mod.OpenStretch]:
    """The openings of some staff (all: None) on local dates ``first`` to ``last`` that reach ``starts``."""
    openings = []
    for day in rules_mod.days(first, last):
        if day not in search.by_day:
            weekday = day.isoweekday()
            on_day = [rule for rule in search.weekly if rule.weekday == weekday]
            search.by_day[day] = rules_mod.occurrences(on_day, day, day, search.closed)
        openings += search.by_day[day] if staff_ids is None else [
            opening for opening in search.by_day[day] if opening.resource_id in staff_ids]
    openings += [o for o in search.extra if (staff_ids is None or o.resource_id in staff_ids)
                 and o.interval.start < starts.end and o.interval.end > starts.start]
    return openings


async def ensure_known(session: AsyncSession, query: SlotQuery) -> None:
    """NotFound for a staff member or site the query names that does not exist."""
    await _ensure_known(session, query)


def _first_stretch(search: LoadedSearch, wanted: int | None) -> timedelta | None:
    """Long enough for the rules to give about ``wanted`` slots (one day at least); None: the whole window.

    Department-wide, a day gives a page; for one staff member, the whole range is one stretch,
    so each search reads its holds once.
    """
    if wanted is None:
        return None
    duration = search.spec.duration
    weekly = sum(_minutes(rule.end_time) - _minutes(rule.start_time) for rule in search.weekly)
    per_week = weekly // max(1, int(duration.total_seconds() // 60)) + len(search.extra)
    return max(FIRST_STRETCH, timedelta(weeks=1) * wanted / max(1, per_week))


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _stretches(search: LoadedSearch, now: datetime, after: Position | None, first: timedelta | None
               ) -> Iterator[Interval]:
    """Consecutive stretches of the search window, from the first bookable start (or ``after``) on.

    The first lasts ``first`` (None: the whole window), each next one twice as long as the last.
    """
    starts = bookable_starts(search.spec, search.window, now)
    if starts is None:
        return
    begin = starts.start if after is None else max(starts.start, after[0].astimezone(UTC))
    length = starts.end - begin if first is None else first
    while begin < starts.end:
        end = min(begin + length, starts.end)
        yield Interval.of_utc(begin, end)
        begin, length = end, length * 2


async def _slots_in(
    session: AsyncSession, search: LoadedSearch, stretch: Interval, now: datetime, after: Position | None,
    limit: int | None, read: HoldsRead | None = None,
) -> list[Slot]:
    """The free slots starting in one stretch of the window (the holds of ``read`` if it reaches as far)."""
    query, spec = search.query, search.spec
    # A slot's local date is its UTC date give or take a day (zones span UTC-12 to UTC+14).
    first = max(query.first, stretch.start.date() - timedelta(days=1))
    last = min(query.last, stretch.end.date() + timedelta(days=1))
    openings = rules_mod.occurrences(search.weekly, first, last, search.closed)
    openings += [o for o in search.extra if o.interval.start < stretch.end and o.interval.end > stretch.start]
    reach = _reach(search, stretch)
    rows = read.rows if read is not None and read.reach == reach else (
        await hold_store.blocking_holds(session, search.staff_ids, reach))
    holds = [hold_store.as_hold(row) for row in rows]
    return free_slots(openings, holds, search.busy, spec, stretch, now, after=after, limit=limit,
                      closures=search.closures)


def _window(first: date, last: date, zones: set[ZoneInfo]) -> Interval:
    starts = [resolve_local(first, time(0), z) for z in zones]
    ends = [resolve_local(last + timedelta(days=1), time(0), z) for z in zones]
    return Interval(min(starts), max(ends))
