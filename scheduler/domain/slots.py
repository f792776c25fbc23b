"""Free slots as a pipeline: openings -> cut(duration) -> subtract(busy) -> holds -> after_notice."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from scheduler.domain.intervals import Interval, merge, require_aware
from scheduler.domain.rules import Opening


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
    def _of(cls, interval: Interval, zone: ZoneInfo | tzinfo, service_id: str, resource_id: str,
            site_id: str | None, remaining: int) -> Slot:
        # The engine's own constructor: the interval is already UTC and valid, so skip the checks.
        slot = object.__new__(cls)
        for name, value in (("start", interval.start.astimezone(zone)), ("end", interval.end.astimezone(zone)),
                            ("service_id", service_id), ("resource_id", resource_id), ("site_id", site_id),
                            ("remaining", remaining), ("interval", interval)):
            object.__setattr__(slot, name, value)
        return slot


def cut(openings: Iterable[Opening], service: ServiceSpec) -> list[Slot]:
    """Slots of the service's duration, stepped from each opening's start, inside the opening.

    Steps are real time (UTC), so a slot lasts the service's duration even across a DST change.
    """
    slots: dict[tuple[str, datetime], Slot] = {}
    for opening in openings:
        if service.id not in opening.service_ids:
            continue
        start = opening.interval.start
        while start + service.duration <= opening.interval.end:
            end = start + service.duration
            slot = _slot(start, end, opening.zone, service, opening)
            slots.setdefault((slot.resource_id, start), slot)  # overlapping rules: keep one
            start = end
    return list(slots.values())


def _slot(start: datetime, end: datetime, zone: ZoneInfo, service: ServiceSpec, opening: Opening) -> Slot:
    # ``start`` and ``end`` are UTC (see Interval), so the steps above were real time.
    return Slot._of(Interval.of_utc(start, end), zone, service.id, opening.resource_id, opening.site_id,
                    service.capacity)


def subtract(slots: Iterable[Slot], busy: Sequence[Interval]) -> list[Slot]:
    """Drop the slots that overlap any busy interval (absences, other commitments)."""
    blocks = merge(busy)
    ends = [block.end for block in blocks]
    return [slot for slot in slots if not _overlaps_sorted(slot.interval, blocks, ends)]


def _overlaps_sorted(interval: Interval, blocks: Sequence[Interval], ends: Sequence[datetime]) -> bool:
    # Blocks are sorted and disjoint, so their ends are sorted too: the first block ending
    # after the interval starts is the only candidate for an overlap.
    index = bisect_right(ends, interval.start)
    return index < len(blocks) and blocks[index].start < interval.end


def apply_holds(slots: Iterable[Slot], holds: Iterable[Hold]) -> list[Slot]:
    """Remove slots taken by holds; a hold of the same service and time leaves its free places."""
    by_resource: dict[str, list[Hold]] = defaultdict(list)
    for hold in holds:
        if hold.blocks:
            by_resource[hold.resource_id].append(hold)
    index = {resource: _HoldIndex(own) for resource, own in by_resource.items()}
    free: list[Slot] = []
    for slot in slots:
        own = index.get(slot.resource_id)
        remaining = own.remaining(slot) if own else slot.remaining
        if remaining > 0:
            free.append(_with_remaining(slot, remaining))
    return free


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

    def remaining(self, slot: Slot) -> int:
        remaining = slot.remaining
        interval = slot.interval
        position = bisect_left(self.starts, interval.end) - 1
        while position >= 0 and self.reach[position] > interval.start:
            hold = self.holds[position]
            position -= 1
            if not hold.interval.overlaps(interval):
                continue
            if hold.service_id != slot.service_id or hold.interval != interval:
                return 0
            remaining = min(remaining, hold.capacity) - hold.taken
        return remaining


def _with_remaining(slot: Slot, remaining: int) -> Slot:
    if remaining == slot.remaining:
        return slot
    return Slot._of(slot.interval, slot.start.tzinfo or UTC, slot.service_id, slot.resource_id, slot.site_id,
                    remaining)


def after_notice(slots: Iterable[Slot], service: ServiceSpec, now: datetime) -> list[Slot]:
    """Keep slots that start after the minimum notice and within the booking horizon."""
    earliest = require_aware(now, "now").astimezone(UTC) + service.min_notice
    latest = earliest - service.min_notice + service.horizon
    return [slot for slot in slots if earliest <= slot.interval.start <= latest]


def within(slots: Iterable[Slot], window: Interval) -> list[Slot]:
    """Keep slots that start inside the window."""
    return [slot for slot in slots if window.start <= slot.interval.start < window.end]


def free_slots(
    openings: Sequence[Opening],
    holds: Sequence[Hold],
    busy: Mapping[str, Sequence[Interval]],
    service: ServiceSpec,
    window: Interval,
    now: datetime,
) -> list[Slot]:
    """The free slots of a service: the composition of the pipeline's steps, ordered by start then resource.

    Args:
        openings: the resources' availability (from weekly rules and extra openings).
        holds: the resources' existing bookings.
        busy: per resource id, the intervals when it is away (absences).
        service: the service being booked.
        window: only slots starting in this window are returned.
        now: the current instant (never read from a clock here).
    """
    candidates = within(cut(openings, service), window)
    free = subtract_per_resource(candidates, busy)
    return sorted(
        after_notice(apply_holds(free, holds), service, now),
        key=lambda slot: (slot.interval.start, slot.resource_id),
    )


def subtract_per_resource(slots: Iterable[Slot], busy: Mapping[str, Sequence[Interval]]) -> list[Slot]:
    """``subtract`` applied to each resource's own busy intervals."""
    grouped: dict[str, list[Slot]] = defaultdict(list)
    for slot in slots:
        grouped[slot.resource_id].append(slot)
    kept: list[Slot] = []
    for resource_id, own in grouped.items():
        kept.extend(subtract(own, busy.get(resource_id, [])))
    return kept
