"""Care pathways: series of free slots with one staff member at one site, a set number of days apart.

A pure step over the slot engine's output: ``by_place(slots)`` -> ``earliest_series`` per first
slot -> ``pathway_series`` (ordered, paged). What a series is, exactly:

- its sessions are free slots of one staff member at one site, of the one service searched;
- each session starts at the same local wall-clock time as the first ("same hour every week",
  whatever the DST offset that day);
- each session's local date is ``every_days`` after the previous session's, give or take up
  to ``tolerance_days`` (so a holiday or an absence can push one session by a day or two);
- the first session starts on a local date of the asked range; the others may fall after it.

For each free slot that can open a series, the earliest series is given: of all the valid
continuations, the one whose session starts, compared one by one, are earliest. Series are
ordered by the UTC start of their first session, then staff id, then site id.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.intervals import Interval, resolve_local
from scheduler.domain.slots import Slot

# (UTC start of the first session, staff id, site id or ""): where a page of series stops.
SeriesPosition = tuple[datetime, str, str]
# A staff member's free slots at one site by (local date, local wall time), earliest instant first
# (two slots share both only in an autumn fold).
PlaceIndex = dict[tuple[date, time], list[Slot]]


@dataclass(frozen=True, slots=True)
class Spacing:
    """How many sessions, how many days apart, and by how many days one may move."""

    sessions: int
    every_days: int
    tolerance_days: int = 0

    def __post_init__(self) -> None:
        if self.sessions < 2:
            raise ValueError("a series has at least two sessions")
        if self.every_days < 1:
            raise ValueError("sessions are at least one day apart")
        if not 0 <= self.tolerance_days < self.every_days:
            # A tolerance of every_days or more would let two sessions fall on the same day.
            raise ValueError("the tolerance is zero or more, and fewer days than the spacing")

    def next_days(self, previous: date) -> Iterator[date]:
        """The local dates the next session may fall on, earliest first."""
        for shift in range(-self.tolerance_days, self.tolerance_days + 1):
            yield previous + timedelta(days=self.every_days + shift)


@dataclass(frozen=True, slots=True)
class Series:
    """Free slots of one staff member at one site that together make a pathway's sessions."""

    staff_id: str
    site_id: str | None
    slots: tuple[Slot, ...]

    @property
    def position(self) -> SeriesPosition:
        """Where this series sits in the order of results."""
        return self.slots[0].interval.start, self.staff_id, self.site_id or ""


def by_place(slots: Iterable[Slot]) -> dict[tuple[str, str | None], PlaceIndex]:
    """The slots of each (staff member, site), indexed by local date and wall time."""
    places: dict[tuple[str, str | None], PlaceIndex] = defaultdict(lambda: defaultdict(list))
    for slot in slots:
        places[slot.resource_id, slot.site_id][slot.start.date(), slot.start.time()].append(slot)
    for index in places.values():
        for same in index.values():
            if len(same) > 1:
                same.sort(key=_utc_start)
    return places


def _utc_start(slot: Slot) -> datetime:
    return slot.interval.start


def earliest_series(index: PlaceIndex, first: Slot, spacing: Spacing,
                    dead_ends: set[tuple[datetime, int]] | None = None) -> tuple[Slot, ...] | None:
    """The earliest series opened by ``first``, or None when no continuation has every session.

    A depth-first walk trying the earliest candidates first, so the first complete series found
    is the earliest. ``dead_ends`` remembers (UTC start, sessions still wanted) that lead nowhere,
    shared between the first slots of one place: each slot is then explored once per depth.
    """
    dead = set() if dead_ends is None else dead_ends
    return _continue(index, first, spacing.sessions - 1, spacing, dead)


def _continue(index: PlaceIndex, previous: Slot, wanted: int, spacing: Spacing,
              dead: set[tuple[datetime, int]]) -> tuple[Slot, ...] | None:
    if wanted == 0:
        return (previous,)
    if (previous.interval.start, wanted) in dead:
        return None
    wall = previous.start.time()
    for day in spacing.next_days(previous.start.date()):
        for candidate in index.get((day, wall), ()):
            rest = _continue(index, candidate, wanted - 1, spacing, dead)
            if rest is not None:
                return (previous, *rest)
    dead.add((previous.interval.start, wanted))
    return None


def pathway_series(
    slots: Iterable[Slot],
    spacing: Spacing,
    first_day: date,
    last_day: date,
    *,
    after: SeriesPosition | None = None,
    limit: int | None = None,
) -> list[Series]:
    """The earliest series of each free slot that can open one, in order, paged.

    Args:
        slots: free slots of one service (as the slot engine gives them), the continuations' too.
        spacing: the number of sessions and the days between them.
        first_day: the first local date a series may start on.
        last_day: the last local date a series may start on.
        after: only series strictly after this position (where the previous page stopped).
        limit: at most this many series, the first ones in order.
    """
    places = by_place(slots)
    openers = sorted(_openers(places, first_day, last_day), key=_position)
    start = 0 if after is None else bisect_right(openers, after, key=_position)
    dead_ends: dict[tuple[str, str | None], set[tuple[datetime, int]]] = defaultdict(set)
    found: list[Series] = []
    for _at, slot, place in openers[start:]:
        if limit is not None and len(found) >= limit:
            break
        chain = earliest_series(places[place], slot, spacing, dead_ends[place])
        if chain is not None:
            found.append(Series(place[0], place[1], chain))
    return found


def session_windows(first_starts: Sequence[datetime], spacing: Spacing) -> list[Interval]:
    """The UTC windows the sessions of series opened at ``first_starts`` fall in, one per session.

    ``first_starts`` are aware local starts (in their site's zone), earliest first in UTC. Each
    later session is at its first one's wall time on one of the dates the spacing allows (either
    instant of it in an autumn fold, the wall time pushed forward in a spring gap).
    """
    windows = [Interval(first_starts[0], first_starts[-1] + _ONE_TICK)]
    walls = {(start.date(), start.time(), _zone(start)) for start in first_starts}
    for k in range(1, spacing.sessions):
        earliest = k * (spacing.every_days - spacing.tolerance_days)
        latest = k * (spacing.every_days + spacing.tolerance_days)
        instants = [resolve_local(day + timedelta(days=shift), wall.replace(fold=fold), zone).astimezone(UTC)
                    for day, wall, zone in walls
                    for shift in (earliest, latest) for fold in (0, 1)]
        windows.append(Interval.of_utc(min(instants), max(instants) + _ONE_TICK))
    return windows


_ONE_TICK = timedelta(microseconds=1)


def _zone(start: datetime) -> ZoneInfo:
    if not isinstance(start.tzinfo, ZoneInfo):
        raise TypeError("a first start is given in its site's zone")
    return start.tzinfo


Opener = tuple[SeriesPosition, Slot, tuple[str, str | None]]


def _openers(places: dict[tuple[str, str | None], PlaceIndex], first_day: date, last_day: date
             ) -> Iterator[Opener]:
    """Each slot on a date a series may start on, with its position and place."""
    for place, index in places.items():
        for (day, _wall), same in index.items():
            if first_day <= day <= last_day:
                for slot in same:
                    yield (slot.interval.start, place[0], place[1] or ""), slot, place


def _position(opener: Opener) -> SeriesPosition:
    return opener[0]
