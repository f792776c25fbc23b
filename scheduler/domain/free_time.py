"""Free time of companion resources (interpreters): when each one is open, neither booked nor away."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from scheduler.domain.intervals import Interval, merge
from scheduler.domain.rules import OpenStretch
from scheduler.domain.slots import Hold, Slot


def free_time(
    openings: Iterable[OpenStretch], holds: Iterable[Hold], busy: Mapping[str, Sequence[Interval]]
) -> dict[str, list[Interval]]:
    """Per resource, its open stretches minus its blocking holds and its absences."""
    open_by_resource: dict[str, list[Interval]] = defaultdict(list)
    for opening in openings:
        open_by_resource[opening.resource_id].append(opening.interval)
    taken: dict[str, list[Interval]] = defaultdict(list)
    for hold in holds:
        if hold.blocks:
            taken[hold.resource_id].append(hold.interval)
    return {
        resource: remove(merge(stretches), merge([*taken[resource], *busy.get(resource, [])]))
        for resource, stretches in open_by_resource.items()
    }


def remove(stretches: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """``stretches`` minus ``cuts``, both sorted and disjoint (as ``merge`` gives them)."""
    free: list[Interval] = []
    for stretch in stretches:
        start = stretch.start
        for cut in cuts:
            if cut.end <= start or cut.start >= stretch.end:
                continue
            if cut.start > start:
                free.append(Interval(start, cut.start))
            start = max(start, cut.end)
        if start < stretch.end:
            free.append(Interval(start, stretch.end))
    return free


def companions_free_for(interval: Interval, free: Mapping[str, Sequence[Interval]]) -> list[str]:
    """The resources whose free time covers the whole interval, in id order."""
    return sorted(
        resource for resource, stretches in free.items() if any(s.contains(interval) for s in stretches)
    )


def with_free_companion(slots: Iterable[Slot], free: Mapping[str, Sequence[Interval]]) -> list[Slot]:
    """Keep the slots during which at least one companion is free for the whole slot."""
    return [slot for slot in slots if companions_free_for(slot.interval, free)]
