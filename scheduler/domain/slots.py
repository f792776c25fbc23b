"""Free slots as a pipeline: bookable_starts -> grid(openings) -> subtract(busy) -> outside(closures)
-> place(holds) -> page."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.intervals import Interval, merge, require_aware
from scheduler.domain.rules import OpenStretch


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What the engine needs to know of a service."""

    id: str
    duration: timedelta
    capacity: int = 1
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=92)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError("a service lasts a positive time")
        if self.capacity < 1:
            raise ValueError("a service takes at least one participant")


@dataclass(frozen=True, slots=True)
class Hold:
    """A booked block of a resource: ``taken`` of ``capacity`` places of one service at one time."""

    resource_id: str
    interval: Interval
    service_id: str
    taken: int
    capacity: int

    @property
    def blocks(self) -> bool:
        """A hold with nobody left on it (all cancelled) no longer blocks its resource."""
        return self.taken > 0


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time of one resource, its ends given in the site's zone.

    ``interval`` is the same time in UTC, computed once: the engine compares slots in UTC many
    times each, and Python compares two datetimes of one zone by wall time (wrong in a fold).
    """

    start: datetime
    end: datetime
    service_id: str
    resource_id: str
    site_id: str | None
    remaining: int
    interval: Interval = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", Interval(self.start, self.end))  # validates awareness and order

    @classmethod
    def _local(cls, interval: Interval, start: datetime, end: datetime, service_id: str, resource_id: str,
               site_id: str | None, remaining: int) -> Slot:
        # The engine's own constructor: the interval is already UTC and valid and the local ends
        # are worked out, so skip the checks.
        slot = object.__new__(cls)
        _set(slot, "start", start)
        _set(slot, "end", end)
        _set(slot, "service_id", service_id)
        _set(slot, "resource_id", resource_id)
        _set(slot, "site_id", site_id)
        _set(slot, "remaining", remaining)
        _set(slot, "interval", interval)
        return slot


_set = object.__setattr__  # frozen dataclasses are built field by field through it


# A slot before it becomes a ``Slot``: its UTC start, its resource, and the opening that gives it
# (whose zone and site the slot takes). The steps below pass these plain tuples along, so only
# the slots a caller keeps (a page of them) pay for building ``Slot`` objects.
Candidate = tuple[datetime, str, OpenStretch]
# The same, once the holds are known: (UTC start, resource, places left, opening). Tuples sort
# by start then resource, the order of the results; (start, resource) is unique, so the
# opening is never compared.
Placed = tuple[datetime, str, int, OpenStretch]
Position = tuple[datetime, str]  # (UTC start, resource): where a page of slots stops


def bookable_starts(service: ServiceSpec, window: Interval, now: datetime) -> Interval | None:
    """The starts a slot may have: in the window, after the minimum notice, within the horizon; None if none.

    The horizon's last instant is itself bookable, so the result ends one microsecond (the
    resolution of ``datetime``) after it, or at the window's end if that comes first.
    """
    earliest = require_aware(now, "now").astimezone(UTC) + service.min_notice
    latest = earliest - service.min_notice + service.horizon
    first, end = max(window.start, earliest), min(window.end, latest + _ONE_TICK)
    return Interval.of_utc(first, end) if first < end else None


_ONE_TICK = timedelta(microseconds=1)


def grid(openings: Iterable[OpenStretch], service: ServiceSpec, starts: Interval) -> list[Candidate]:
    """Every start of the service's duration stepped from an opening's start, inside the opening.

    Only starts inside ``starts`` are kept. Steps are real time (UTC), so a slot lasts the
    service's duration even across a DST change. Overlapping openings of one resource give one
    candidate per start: the first opening's.
    """
    step, low, high = service.duration, starts.start, starts.end
    found: dict[tuple[str, datetime], OpenStretch] = {}
    for opening in openings:
        if service.id not in opening.service_ids:
            continue
        start, close = opening.interval.start, opening.interval.end
        if start < low:  # jump to the first step at or after ``low``
            start += step * -((start - low) // step)
        while start < high and start + step <= close:
            found.setdefault((opening.resource_id, start), opening)
            start += step
    return [(start, resource, opening) for (resource, start), opening in found.items()]


def subtract(candidates: Iterable[Candidate], busy: Mapping[str, Sequence[Interval]],
             duration: timedelta) -> list[Candidate]:
    """Drop the candidates that overlap a busy interval (absence) of their own resource."""
    blocks = {resource: _Blocks(merge(intervals)) for resource, intervals in busy.items() if intervals}
    if not blocks:
        return list(candidates)
    return [(start, resource, opening) for start, resource, opening in candidates
            if (own := blocks.get(resource)) is None or not own.overlaps(start, start + duration)]


def outside(candidates: Iterable[Candidate], closures: Mapping[str, Sequence[Interval]],
            duration: timedelta) -> list[Candidate]:
    """Drop the candidates that overlap a closure of their opening's site (a strike, an election).

    Like a holiday of that site only: the same staff member stays bookable at her other sites.
    """
    blocks = {site: _Blocks(merge(intervals)) for site, intervals in closures.items() if intervals}
    if not blocks:
        return list(candidates)
    return [(start, resource, opening) for start, resource, opening in candidates
            if (closed := blocks.get(opening.site_id or "")) is None
            or not closed.overlaps(start, start + duration)]


class _Blocks:
    """Sorted, disjoint busy intervals (as ``merge`` gives them), for overlap look-ups by bisection."""

    def __init__(self, merged: Sequence[Interval]) -> None:
        self.starts = [block.start for block in merged]
        self.ends = [block.end for block in merged]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The blocks' ends are sorted too: the first block ending after ``start`` is the only
        # candidate for an overlap.
        index = bisect_right(self.ends, start)
        return index < len(self.starts) and self.starts[index] < end


def place(candidates: Iterable[Candidate], holds: Iterable[Hold], service: ServiceSpec) -> list[Placed]:
    """The candidates the holds leave free, with their places left.

    A hold of the same service and the very same time leaves its free places; any other
    overlapping hold takes the resource.
    """
    index = _hold_indexes(holds)
    step, capacity, service_id = service.duration, service.capacity, service.id
    placed: list[Placed] = []
    for start, resource, opening in candidates:
        own = index.get(resource)
        remaining = own.remaining(start, start + step, service_id, capacity) if own else capacity
        if remaining > 0:
            placed.append((start, resource, remaining, opening))
    return placed


def page(placed: list[Placed], after: Position | None = None, limit: int | None = None) -> list[Placed]:
    """Sort by start then resource, and keep at most ``limit`` of those strictly after ``after``."""
    placed.sort()
    first = 0 if after is None else bisect_right(placed, after, key=_position)
    return placed[first:] if limit is None else placed[first:first + limit]


def _position(item: Placed) -> Position:
    return item[0], item[1]


def to_slots(placed: Iterable[Placed], service: ServiceSpec) -> list[Slot]:
    """The ``Slot`` of each placed candidate, its ends in its opening's zone."""
    step, service_id = service.duration, service.id
    local: dict[tuple[datetime, ZoneInfo], datetime] = {}  # hundreds of staff share a few starts

    def at(instant: datetime, zone: ZoneInfo) -> datetime:
        found = local.get((instant, zone))
        if found is None:
            found = local[instant, zone] = instant.astimezone(zone)
        return found

    slots = []
    for start, resource, remaining, opening in placed:
        end, zone = start + step, opening.zone
        slots.append(Slot._local(Interval.of_utc(start, end), at(start, zone), at(end, zone), service_id,
                                 resource, opening.site_id, remaining))
    return slots


def free_slots(
    openings: Sequence[OpenStretch],
    holds: Sequence[Hold],
    busy: Mapping[str, Sequence[Interval]],
    service: ServiceSpec,
    window: Interval,
    now: datetime,
    *,
    after: Position | None = None,
    limit: int | None = None,
    closures: Mapping[str, Sequence[Interval]] | None = None,
) -> list[Slot]:
    """The free slots of a service: the composition of the pipeline's steps, ordered by start then resource.

    Args:
        openings: the resources' availability (from weekly rules and extra openings).
        holds: the resources' existing bookings.
        busy: per resource id, the intervals when it is away (absences).
        service: the service being booked.
        window: only slots starting in this window are returned.
        now: the current instant (never read from a clock here).
        after: only slots strictly after this (UTC start, resource) position: where a page stopped.
        limit: at most this many slots, the first ones in order.
        closures: per site id, the intervals when the site is closed.
    """
    starts = bookable_starts(service, window, now)
    if starts is None:
        return []
    candidates = grid(openings, service, starts)
    available = outside(subtract(candidates, busy, service.duration), closures or {}, service.duration)
    free = place(available, holds, service)
    return to_slots(page(free, after, limit), service)


def _hold_indexes(holds: Iterable[Hold]) -> dict[str, _HoldIndex]:
    by_resource: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds:
        if hold.blocks:
            by_resource[hold.resource_id].append(hold)
    return {resource: _HoldIndex(own) for resource, own in by_resource.items()}


class _HoldIndex:
    """One resource's holds sorted by start, for overlap look-ups in O(log n) per slot."""

    def __init__(self, holds: Sequence[Hold]) -> None:
        self.holds = sorted(holds, key=lambda hold: hold.interval.start)
        self.starts = [hold.interval.start for hold in self.holds]
        # The running maximum of ends lets the backward scan stop as soon as no earlier hold
        # can still reach the slot, even if (corrupt) holds overlapped each other.
        self.reach: list[datetime] = []
        for hold in self.holds:
            self.reach.append(max(self.reach[-1], hold.interval.end) if self.reach else hold.interval.end)

    def remaining(self, start: datetime, end: datetime, service_id: str, places: int) -> int:
        """The places left of ``places`` for a slot of ``service_id`` from ``start`` to ``end`` (UTC)."""
        remaining = places
        position = bisect_left(self.starts, end) - 1
        while position >= 0 and self.reach[position] > start:
            hold = self.holds[position]
            position -= 1
            held = hold.interval
            if not (held.start < end and start < held.end):
                continue
            if hold.service_id != service_id or held.start != start or held.end != end:
                return 0
            remaining = min(remaining, hold.capacity) - hold.taken
        return remaining
