"""Time intervals on aware datetimes, and the one place local wall times become instants."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def require_aware(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` unchanged, or raise ``ValueError`` when it has no UTC offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset: {value.isoformat()}")
    return value


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open interval ``[start, end)`` between two aware instants, held in UTC.

    Python compares and subtracts two datetimes that share a tzinfo by their wall times,
    ignoring ``fold``: in an autumn fold 01:30 (first) and 01:30 (second) would compare equal.
    Holding every interval in UTC makes comparisons and arithmetic real time.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "start").astimezone(UTC))
        object.__setattr__(self, "end", require_aware(self.end, "end").astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"interval ends before it starts: {self.start} -> {self.end}")

    @classmethod
    def of_utc(cls, start: datetime, end: datetime) -> Interval:
        """An interval from two UTC datetimes already known to be in order, without checks.

        For the hot loops only: database rows (stored as UTC, ordered by a CHECK constraint)
        and the engine's own steps. Everything else goes through the validating constructor.
        """
        interval = object.__new__(cls)
        object.__setattr__(interval, "start", start)
        object.__setattr__(interval, "end", end)
        return interval

    @property
    def duration(self) -> timedelta:
        """Real elapsed time."""
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when the two intervals share at least one instant (touching ends do not)."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """True when ``other`` lies entirely inside this interval."""
        return self.start <= other.start and other.end <= self.end


def time_exists(local: datetime) -> bool:
    """True when the wall time ``local`` (aware, zoneinfo) really happens in its zone.

    A wall time inside a spring-forward gap does not survive a round trip through UTC.
    """
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def resolve_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall time on a day means in a zone, as an aware datetime in that zone.

    In an autumn fold the earlier of the two instants is taken (``fold=0``). In a spring
    gap the wall time does not exist: it is moved forward by the length of the gap, so a
    rule starting at 02:30 on the night the clocks go from 02:00 to 03:00 starts at 03:30.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    if time_exists(local):
        return local
    # zoneinfo gives a gap time the offset from before the gap; going through UTC lands
    # on the wall time pushed forward by the gap's length.
    return local.astimezone(UTC).astimezone(zone)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; overlapping or touching ones are joined."""
    merged: list[Interval] = []
    for item in sorted(intervals, key=lambda i: i.start):
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, item.end))
        else:
            merged.append(item)
    return merged


def covered(inner: Interval, cover: Sequence[Interval]) -> bool:
    """True when ``inner`` lies entirely inside the union of ``cover``."""
    return any(block.contains(inner) for block in merge(cover))


def utc(value: datetime) -> datetime:
    """The same instant in UTC."""
    return require_aware(value).astimezone(UTC)
