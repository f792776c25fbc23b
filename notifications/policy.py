"""Who may be texted and when: consent, reminder times and quiet hours. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers

DEFAULT_REMINDER_OFFSETS_MINUTES: tuple[int, ...] = (2880,)
"""Reminders of the default policy, in minutes before the start: two days."""
MORNING_REMINDER_AT = time(8, 30)
"""The default policy also reminds on the morning of the day, at this local time..."""
MORNING_REMINDER_FROM = time(12, 0)
"""...for appointments starting at or after this local time (a morning one is too close)."""
QUIET_MARGIN = timedelta(minutes=15)
"""A reminder moved out of quiet hours is sent this long before they begin (19:45 for 20:00)."""
MINUTES_PER_DAY = 24 * 60

NotTexted = Literal["no-phone", "landline", "no-consent"]
"""Why a person gets no SMS at all: no number, a number that cannot receive SMS, no consent."""
# A number of these types can receive SMS; so can one whose type the library cannot tell (a
# number stored before it was checked): only a number known to be something else is refused.
_TEXTABLE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE,
                             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                             phonenumbers.PhoneNumberType.UNKNOWN})

_QUIET_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily local window without texts, ``[start, end)``; ``start > end`` spans midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall times: give them without a zone")
        if self.start == self.end:
            raise ValueError(f"quiet hours start and end at the same time ({self.start:%H:%M})")

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """Read ``"HH:MM-HH:MM"`` (e.g. ``"20:00-08:00"``); an empty text means no quiet hours.

        Raises:
            ValueError: The text is not two valid ``HH:MM`` times joined by ``-``.
        """
        if not text.strip():
            return None
        found = _QUIET_HOURS.match(text)
        if found is None:
            raise ValueError(f"quiet hours must look like '20:00-08:00', not {text!r}")
        start_h, start_m, end_h, end_m = (int(part) for part in found.groups())
        try:
            return cls(time(start_h, start_m), time(end_h, end_m))
        except ValueError as exc:
            raise ValueError(f"quiet hours {text!r}: {exc}") from exc

    @property
    def spans_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, local: datetime) -> bool:
        """True when the wall time of ``local`` (in the zone that matters) is quiet."""
        wall = local.time()
        if self.spans_midnight:
            return wall >= self.start or wall < self.end
        return self.start <= wall < self.end

    def began_on(self, local: datetime) -> date:
        """The day the quiet window holding ``local`` began (the evening before, after midnight)."""
        after_midnight = self.spans_midnight and local.time() < self.end
        return local.date() - timedelta(days=1) if after_midnight else local.date()

    def ends_on(self, local: datetime) -> date:
        """The day the quiet window holding ``local`` ends (the next morning, before midnight)."""
        before_midnight = self.spans_midnight and local.time() >= self.start
        return local.date() + timedelta(days=1) if before_midnight else local.date()


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One reminder to send: how long before the start (None: the morning reminder) and when (UTC)."""

    offset_minutes: int | None
    due_at: datetime

    @property
    def kind(self) -> str:
        """``reminder-2880``, ``reminder-morning``."""
        return f"reminder-{'morning' if self.offset_minutes is None else self.offset_minutes}"


def plan_reminders(
    start: datetime,
    zone: ZoneInfo,
    offsets_minutes: Sequence[int] | None,
    quiet: QuietHours | None,
    now: datetime,
) -> list[PlannedReminder]:
    """The reminders of an appointment still worth sending, earliest first.

    Pipeline: candidates (offsets, or the default policy) -> moved out of quiet hours ->
    only those between ``now`` and the start -> one per instant.

    Args:
        start: The appointment's start (aware).
        zone: The site's zone, where "two days before" and quiet hours are read.
        offsets_minutes: Minutes before the start; ``None`` for the default policy (two days
            before, and 08:30 on the day for an afternoon appointment). A whole number of
            days keeps the wall-clock time across a DST change (two days before a 10:00
            appointment is 10:00), as a person means it; other offsets are elapsed minutes.
        quiet: The site's quiet hours, or ``None``.
        now: The current instant.

    Raises:
        ValueError: A datetime is naive, or an offset is not positive.
    """
    local_start = _require_aware(start, "start").astimezone(zone)
    _require_aware(now, "now")
    candidates = _candidates(local_start, zone, offsets_minutes)
    moved = [PlannedReminder(offset, _before_quiet(due, zone, quiet)) for offset, due in candidates]
    upcoming = [reminder for reminder in moved if now <= reminder.due_at < start]
    return _one_per_instant(upcoming)


def next_allowed_send(at: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """When an immediate message (confirmation, change, cancellation) may go out, in UTC.

    Returns ``at`` itself outside quiet hours, else the end of the quiet window (08:00 the
    next morning for ``20:00-08:00``).
    """
    local = _require_aware(at, "at").astimezone(zone)
    if quiet is None or not quiet.contains(local):
        return at.astimezone(UTC)
    return _resolve_local(quiet.ends_on(local), quiet.end, zone).astimezone(UTC)


def may_text(phone_e164: str | None, sms_consent: bool) -> bool:
    """True when a person can be texted: they consented and there is a number that receives SMS."""
    return why_not_texted(phone_e164, sms_consent) is None


def why_not_texted(phone_e164: str | None, sms_consent: bool) -> NotTexted | None:
    """Why a person is never texted (no number, a landline, no consent), or None when they may be."""
    if phone_e164 is None or phone_e164.strip() == "":
        return "no-phone"
    if not receives_sms(phone_e164):
        return "landline"
    return None if sms_consent else "no-consent"


@lru_cache(maxsize=4096)
def receives_sms(phone_e164: str) -> bool:
    """False for a number known not to be a mobile (a landline, a toll-free or VoIP number).

    Cached: each booking and each send asks, and parsing costs more than the rest of the policy.
    """
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        return True  # not ours to judge here: the sender reports a number it cannot text
    return phonenumbers.number_type(number) in _TEXTABLE_TYPES


def _candidates(
    local_start: datetime, zone: ZoneInfo, offsets_minutes: Sequence[int] | None
) -> list[tuple[int | None, datetime]]:
    offsets = DEFAULT_REMINDER_OFFSETS_MINUTES if offsets_minutes is None else offsets_minutes
    found: list[tuple[int | None, datetime]] = [
        (minutes, _minutes_before(local_start, zone, minutes)) for minutes in offsets]
    if offsets_minutes is None and local_start.time() >= MORNING_REMINDER_FROM:
        found.append((None, _resolve_local(local_start.date(), MORNING_REMINDER_AT, zone)))
    return found


def _minutes_before(local_start: datetime, zone: ZoneInfo, minutes: int) -> datetime:
    if minutes <= 0:
        raise ValueError(f"a reminder offset must be a positive number of minutes, not {minutes}")
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    if rest == 0:
        return _resolve_local(local_start.date() - timedelta(days=days), local_start.time(), zone)
    return (local_start.astimezone(UTC) - timedelta(minutes=minutes)).astimezone(zone)


def _before_quiet(due: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """``due`` in UTC, moved earlier to just before the quiet window it falls in, if any."""
    if quiet is None or not quiet.contains(due):
        return due.astimezone(UTC)
    window_start = _resolve_local(quiet.began_on(due), quiet.start, zone)
    return window_start.astimezone(UTC) - QUIET_MARGIN


def _one_per_instant(reminders: list[PlannedReminder]) -> list[PlannedReminder]:
    """Sorted by due time; of reminders due at the same instant, the first planned is kept."""
    kept: dict[datetime, PlannedReminder] = {}
    for reminder in sorted(reminders, key=lambda r: r.due_at):
        kept.setdefault(reminder.due_at, reminder)
    return list(kept.values())


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset: {value.isoformat()}")
    return value


def _resolve_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a wall time on a day means in a zone, in that zone.

    The same rule as the slot engine's ``resolve_local`` (this package does not depend on the
    scheduler's): in an autumn fold the earlier instant (``fold=0``); in a spring gap the wall
    time pushed forward by the gap, which a round trip through UTC gives (zoneinfo reads a gap
    time with the offset from before it), and which leaves a wall time that exists unchanged.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)
