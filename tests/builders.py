"""Test data in domain words: rules, services, holds and instants of the French programmes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.intervals import Interval
from scheduler.domain.rules import WeeklyRule
from scheduler.domain.slots import Hold, ServiceSpec

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(1, 8)

# A school permanence is a weekly half-day in a school: these are the usual hours.
HALF_DAYS = {"morning": ("08:30", "11:30"), "afternoon": ("13:30", "16:30")}


def paris(y: int, m: int, d: int, hh: int = 0, mm: int = 0, *, fold: int = 0) -> datetime:
    """An aware wall time in Paris; ``fold=1`` picks the second 02:xx of an autumn night."""
    return datetime(y, m, d, hh, mm, tzinfo=PARIS, fold=fold)


def local(zone: str, y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """An aware wall time in any IANA zone (overseas sites)."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(zone))


def hhmm(text: str) -> time:
    """``"09:30"`` as a ``time``."""
    return time.fromisoformat(text)


def weekly_rule(
    *,
    resource: str,
    weekday: int,
    start: str,
    end: str,
    site: str | None = "ccas",
    services: Iterable[str] = ("point-ecoute",),
    zone: str = "Europe/Paris",
    valid_from: date = date(2026, 1, 1),
    valid_until: date | None = None,
    follows_school_calendar: bool = False,
    calendar: str = "FR",
    school_zone: str | None = None,
    rule_id: str | None = None,
    every_weeks: int = 1,
) -> WeeklyRule:
    """Any weekly availability rule; the named builders below are the usual ones."""
    return WeeklyRule(
        id=rule_id or f"{resource}-{weekday}-{start}",
        resource_id=resource,
        site_id=site,
        zone=ZoneInfo(zone),
        weekday=weekday,
        start_time=hhmm(start),
        end_time=hhmm(end),
        valid_from=valid_from,
        valid_until=valid_until,
        service_ids=frozenset(services),
        follows_school_calendar=follows_school_calendar,
        holiday_calendar=calendar,
        school_zone=school_zone,
        every_weeks=every_weeks,
    )


def wednesday_rule(
    resource: str = "psy",
    site: str = "ccas",
    start: str = "09:00",
    end: str = "12:00",
    services: Iterable[str] = ("point-ecoute",),
    zone: str = "Europe/Paris",
    valid_from: date = date(2026, 9, 1),
    valid_until: date | None = None,
    calendar: str = "FR",
) -> WeeklyRule:
    """The Point Écoute psychologist, who receives by appointment every Wednesday."""
    return weekly_rule(
        resource=resource, weekday=WEDNESDAY, start=start, end=end, site=site, services=services,
        zone=zone, valid_from=valid_from, valid_until=valid_until, calendar=calendar,
    )


def school_permanence(
    resource: str = "as-1",
    site: str = "ecole-jaures",
    weekday: int = MONDAY,
    half_day: str = "morning",
    zone_letter: str | None = "A",
    services: Iterable[str] = ("entretien-social",),
    valid_from: date = date(2026, 9, 1),
) -> WeeklyRule:
    """A social worker's weekly half-day in a school: closed in the zone's school holidays."""
    start, end = HALF_DAYS[half_day]
    return weekly_rule(
        resource=resource, weekday=weekday, start=start, end=end, site=site, services=services,
        valid_from=valid_from, follows_school_calendar=True, school_zone=zone_letter,
    )


def office_hours(
    resource: str = "as-2",
    site: str = "ccas",
    weekday: int = MONDAY,
    start: str = "08:30",
    end: str = "11:30",
    services: Iterable[str] = ("entretien-social",),
    valid_from: date = date(2026, 9, 1),
) -> WeeklyRule:
    """A social worker's hours at the CCAS office: open in school holidays."""
    return weekly_rule(
        resource=resource, weekday=weekday, start=start, end=end, site=site, services=services,
        valid_from=valid_from,
    )


def one_hour_service(
    service_id: str = "point-ecoute",
    min_notice: timedelta = timedelta(0),
    horizon: timedelta = timedelta(days=92),
) -> ServiceSpec:
    """An individual one-hour interview (the Point Écoute's usual length)."""
    return ServiceSpec(service_id, timedelta(hours=1), 1, min_notice, horizon)


def service(service_id: str, minutes: int, capacity: int = 1) -> ServiceSpec:
    """A service of any length, booked without notice within 92 days."""
    return ServiceSpec(service_id, timedelta(minutes=minutes), capacity)


def collective_session(
    capacity: int = 8, service_id: str = "groupe-parents", minutes: int = 120
) -> ServiceSpec:
    """A parents' discussion group: several families share one block."""
    return ServiceSpec(service_id, timedelta(minutes=minutes), capacity)


def hold(
    start: datetime,
    end: datetime,
    resource: str = "psy",
    service_id: str = "point-ecoute",
    taken: int = 1,
    capacity: int = 1,
) -> Hold:
    """A booked block of a resource (``taken=0``: every booking on it was cancelled)."""
    return Hold(resource, Interval(start, end), service_id, taken, capacity)


def absence(start: datetime, end: datetime) -> Interval:
    """A stretch of time when a staff member is away."""
    return Interval(start, end)


def local_days(first: date, last: date, zone: str = "Europe/Paris") -> Interval:
    """From midnight of ``first`` to midnight after ``last``, in a zone (a query window)."""
    tz = ZoneInfo(zone)
    return Interval(
        datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)
    )
