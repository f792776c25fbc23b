"""The waiting list's rules, pure: which entry may get which freed time, and when offers may go out.

RDV-Solidarités' rules for a family that wants an earlier time than its appointment: only while
that appointment is more than 7 days away, at most one offer a day and three in all. Every offer
goes out within the offer hours (default 09:00-19:00, site time) and never in quiet hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

EARLIER_ONLY_BEYOND = timedelta(days=7)
MOST_OFFERS_EARLIER = 3
IGNORED_MARK = 3
"""Offers left unanswered after which an entry stays on the list, marked."""


@dataclass(frozen=True, slots=True)
class Window:
    """A daily local window ``[start, end)``; ``start > end`` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Window | None:
        """``"09:00-19:00"``; an empty text: no window (any time)."""
        if not text.strip():
            return None
        first, last = (part.strip() for part in text.split("-", 1))
        return cls(time.fromisoformat(first), time.fromisoformat(last))

    def contains(self, local: datetime) -> bool:
        """Whether ``local``'s wall time falls in the window."""
        wall = local.time()
        if self.start > self.end:
            return wall >= self.start or wall < self.end
        return self.start <= wall < self.end


@dataclass(frozen=True, slots=True)
class Wish:
    """What an entry waits for (times aware UTC)."""

    service_id: str
    site_id: str | None
    staff_id: str | None
    earliest: datetime | None
    latest: datetime | None
    appointment_start: datetime | None
    """The start of the appointment the family wants earlier; None: a plain entry."""
    offers_sent: int
    last_offered_at: datetime | None


@dataclass(frozen=True, slots=True)
class FreeTime:
    """A free slot that could be offered (times aware UTC)."""

    service_id: str
    staff_id: str
    site_id: str
    start: datetime
    end: datetime


def may_offer_now(now: datetime, zone: ZoneInfo, offer_hours: Window | None, quiet: Window | None) -> bool:
    """Whether an offer may be texted now at a site in ``zone``: within the offer hours, never quiet."""
    local = now.astimezone(zone)
    if quiet is not None and quiet.contains(local):
        return False
    return offer_hours is None or offer_hours.contains(local)


def entry_may_get_offer(wish: Wish, now: datetime, zone: ZoneInfo) -> bool:
    """Whether the entry may get an offer today: always for a plain entry; for an earlier-time one,
    while its appointment is more than 7 days away, three offers in all, none yet today (site time)."""
    if wish.appointment_start is None:
        return True
    if wish.appointment_start - now <= EARLIER_ONLY_BEYOND or wish.offers_sent >= MOST_OFFERS_EARLIER:
        return False
    if wish.last_offered_at is None:
        return True
    return wish.last_offered_at.astimezone(zone).date() != now.astimezone(zone).date()


def fits(wish: Wish, free: FreeTime) -> bool:
    """Whether a free time is what the entry waits for: its service, site, staff member and range,
    and for an earlier-time entry, earlier than its appointment."""
    if free.service_id != wish.service_id:
        return False
    if wish.site_id is not None and free.site_id != wish.site_id:
        return False
    if wish.staff_id is not None and free.staff_id != wish.staff_id:
        return False
    if wish.earliest is not None and free.start < wish.earliest:
        return False
    if wish.latest is not None and free.end > wish.latest:
        return False
    return wish.appointment_start is None or free.start < wish.appointment_start


def first_fitting(wish: Wish, free: Sequence[FreeTime], taken: set[tuple[str, datetime]]) -> FreeTime | None:
    """The earliest free time the entry fits that is not already offered as often as allowed
    (``taken``: staff member and start of each time with no room for another offer)."""
    for candidate in sorted(free, key=lambda item: (item.start, item.staff_id)):
        if (candidate.staff_id, candidate.start) not in taken and fits(wish, candidate):
            return candidate
    return None


def offer_expiry(now: datetime, start: datetime, minutes: float) -> datetime:
    """When an offer lapses: after ``minutes``, and never after the time it offers begins."""
    return min(now + timedelta(minutes=minutes), start)


def marked(offers_ignored: int) -> bool:
    """An entry that left three offers unanswered stays on the list, marked for staff."""
    return offers_ignored >= IGNORED_MARK
