"""Properties of ``free_slots`` over random weeks, rules, absences and holds, DST nights included.

The expectations are recomputed here from the rules' own fields with ``zoneinfo`` (never with the
engine's ``occurrences`` or ``resolve_local``), so a shared mistake cannot hide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain.calendars import ClosedDays
from scheduler.domain.intervals import Interval
from scheduler.domain.rules import WeeklyRule, occurrences
from scheduler.domain.slots import Hold, ServiceSpec, Slot, free_slots

SERVICE = "entretien"
OTHER_SERVICE = "visite-domicile"
RESOURCES = ("as-1", "as-2", "psy")
# Europe/Paris has DST; La Réunion and Guyane do not, and sit on either side of UTC.
ZONES = {"Europe/Paris": "FR", "Indian/Reunion": "FR-974", "America/Cayenne": "FR-973"}
SCHOOL_ZONES = ("A", "B", "C")
# Last Sundays of March and October 2026-2027: the nights the Paris clock jumps.
DST_SUNDAYS = (date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31))
# Quarter-hour indices of 01:00, 01:45 and 02:00-03:15, to land rule ends in and around the gap.
NEAR_THE_GAP = (4, 7, 8, 9, 10, 11, 12, 13)
UNTIL_MIDNIGHT = timedelta(days=1)


@dataclass(frozen=True)
class Week:
    """One query: everything ``free_slots`` is given, plus the local days it was asked for."""

    rules: list[WeeklyRule]
    closed: ClosedDays
    spec: ServiceSpec
    first: date
    last: date
    window: Interval
    now: datetime
    busy: dict[str, list[Interval]]
    holds: list[Hold]


# ------------------------------------------------------------------ independent recomputation


def instant_of(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall time, worked out from the zone's offsets at the day's two midnights.

    Every zone used here changes offset at most once a day and never at midnight. A wall time
    reached by both offsets is in a fold: the earlier instant wins. One reached by neither is in
    a gap: reading it with the offset from before the gap moves it forward by the gap's length.
    """
    wall = datetime.combine(day, at)
    before = datetime.combine(day, time(0), zone).utcoffset()
    after = datetime.combine(day + timedelta(days=1), time(0), zone).utcoffset()
    assert before is not None and after is not None
    candidates = [(wall - offset).replace(tzinfo=UTC) for offset in (before, after)]
    real = [c for c in candidates if c.astimezone(zone).replace(tzinfo=None) == wall]
    return min(real) if real else candidates[0]


def rule_window(rule: WeeklyRule, day: date) -> tuple[datetime, datetime] | None:
    """The real-time stretch a rule opens on a local day (ignoring holidays), or None."""
    in_force = rule.valid_from <= day and (rule.valid_until is None or day <= rule.valid_until)
    if not in_force or day.isoweekday() != rule.weekday:
        return None
    start, end = instant_of(day, rule.start_time, rule.zone), instant_of(day, rule.end_time, rule.zone)
    return (start, end) if start < end else None


def closed_for(rule: WeeklyRule, day: date, closed: ClosedDays) -> bool:
    if day in closed.public.get(rule.holiday_calendar, frozenset()):
        return True
    school_days = closed.school.get(rule.school_zone or "", frozenset())
    return rule.follows_school_calendar and rule.school_zone is not None and day in school_days


def overlaps(a_start: datetime, a_end: datetime, b: Interval) -> bool:
    return a_start < b.end and b.start < a_end


def grid(week: Week) -> Iterator[tuple[WeeklyRule, datetime]]:
    """Every (rule, UTC start) a rule's day steps to, in real time, before any filtering."""
    for rule in week.rules:
        if SERVICE not in rule.service_ids:
            continue
        for n in range((week.last - week.first).days + 1):
            day = week.first + timedelta(days=n)
            span = rule_window(rule, day)
            if span is None or closed_for(rule, day, week.closed):
                continue
            start = span[0]
            while start + week.spec.duration <= span[1]:
                yield rule, start
                start += week.spec.duration


def blocking_overlaps(week: Week, resource: str, start: datetime, end: datetime) -> list[Hold]:
    return [
        h
        for h in week.holds
        if h.resource_id == resource and h.taken > 0 and overlaps(start, end, h.interval)
    ]


def expected(week: Week) -> set[tuple[str, datetime, int]]:
    """(resource, UTC start, remaining places) of every slot the engine should offer."""
    spec, found = week.spec, set()
    earliest, latest = week.now.astimezone(UTC) + spec.min_notice, week.now.astimezone(UTC) + spec.horizon
    for rule, start in grid(week):
        end = start + spec.duration
        if not (week.window.start <= start < week.window.end and earliest <= start <= latest):
            continue
        if any(overlaps(start, end, a) for a in week.busy.get(rule.resource_id, [])):
            continue
        remaining = spec.capacity
        for h in blocking_overlaps(week, rule.resource_id, start, end):
            same_block = h.service_id == SERVICE and h.interval == Interval(start, end)
            remaining = remaining - h.taken if same_block else 0
        if remaining > 0:
            found.add((rule.resource_id, start, remaining))
    return found


def explaining_rules(week: Week, slot: Slot) -> list[WeeklyRule]:
    """The rules of the slot's resource, site and zone whose real-time grid has the slot on it."""
    found = []
    start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
    for rule in week.rules:
        if (rule.resource_id, rule.site_id, rule.zone) != (slot.resource_id, slot.site_id, slot.start.tzinfo):
            continue
        span = rule_window(rule, slot.start.astimezone(rule.zone).date())
        on_grid = span is not None and (start - span[0]) % week.spec.duration == timedelta(0)
        if SERVICE in rule.service_ids and span and span[0] <= start and end <= span[1] and on_grid:
            found.append(rule)
    return found


# ------------------------------------------------------------------ strategies

quarters = st.one_of(st.integers(0, 95), st.sampled_from(NEAR_THE_GAP))
rule_zones = st.sampled_from(["Europe/Paris", "Europe/Paris", "Indian/Reunion", "America/Cayenne"])
rule_services = st.sampled_from([{SERVICE}, {SERVICE}, {SERVICE, OTHER_SERVICE}, {OTHER_SERVICE}])
weekdays = st.one_of(st.integers(1, 7), st.just(7))  # Sundays twice as often: DST nights
school_zones = st.sampled_from([*SCHOOL_ZONES, None])
notices = st.one_of(st.just(0), st.integers(0, 72 * 60))  # minutes
horizons = st.one_of(st.just(92 * 24), st.integers(1, 30 * 24))  # hours


def quarter(index: int) -> time:
    return time(index // 4, index % 4 * 15)


@st.composite
def weekly_rules(draw: st.DrawFn, first: date, last: date, dst_night: bool) -> WeeklyRule:
    on_the_night = dst_night and draw(st.booleans())  # a Paris Sunday rule, to meet the gap or fold
    zone = "Europe/Paris" if on_the_night else draw(rule_zones)
    # On the night itself, start in 01:00-03:15 so the rule meets the gap or the fold, and be in force.
    start, end = draw(st.sampled_from(NEAR_THE_GAP) if on_the_night else quarters), draw(quarters)
    if start == end:
        start, end = (start, start + 1) if start < 95 else (94, 95)
    valid_from = first + timedelta(days=draw(st.integers(-7, 0 if on_the_night else (last - first).days)))
    until = -1 if on_the_night else draw(st.integers(-1, 21))  # -1: open-ended
    return WeeklyRule(
        id=f"rule-{draw(st.integers(0, 99))}",
        resource_id=draw(st.sampled_from(RESOURCES)),
        site_id=draw(st.sampled_from(["ccas", "ecole-jaures"])),
        zone=ZoneInfo(zone),
        weekday=7 if on_the_night else draw(weekdays),
        start_time=quarter(min(start, end)),
        end_time=quarter(max(start, end)),
        valid_from=valid_from,
        valid_until=None if until < 0 else valid_from + timedelta(days=until),
        service_ids=frozenset(draw(rule_services)),
        follows_school_calendar=draw(st.booleans()),
        holiday_calendar=ZONES[zone],
        school_zone=draw(school_zones),
    )


def some_days(mask: int, days: list[date], bits: int) -> frozenset[date]:
    """The days whose ``bits`` bits of ``mask`` are all set: about one in 2**bits (0 closes nothing)."""
    every = (1 << bits) - 1
    return frozenset(day for n, day in enumerate(days) if (mask >> (bits * n)) & every == every)


def local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone))


@st.composite
def intervals_around(draw: st.DrawFn, origin: datetime, hours: int, longest: timedelta) -> Interval:
    start = origin + timedelta(minutes=draw(st.integers(-24 * 60, hours * 60)))
    return Interval(
        start, start + timedelta(minutes=draw(st.integers(1, int(longest.total_seconds() // 60))))
    )


@st.composite
def absences_for(draw: st.DrawFn, week: Week, hours: int) -> dict[str, list[Interval]]:
    """Random absences, and some ending just at, or one minute into, a slot of the grid."""
    candidates = list(grid(week))
    busy: dict[str, list[Interval]] = {resource: [] for resource in RESOURCES}
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()) and candidates:
            rule, start = draw(st.sampled_from(candidates))
            end = start + timedelta(minutes=draw(st.sampled_from([0, 1])))
            busy[rule.resource_id].append(Interval(end - timedelta(minutes=draw(st.integers(1, 180))), end))
        else:
            busy[draw(st.sampled_from(RESOURCES))].append(draw(intervals_around(week.window.start, hours,
                                                                                timedelta(hours=8))))
    return busy


@st.composite
def holds_for(draw: st.DrawFn, week: Week) -> list[Hold]:
    """Holds as the database keeps them: blocking ones of a resource never overlap, one row per block."""
    candidates = list(grid(week))
    wanted: list[Hold] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["same-block", "other-service-same-time", "other-service", "random"]))
        taken = draw(st.integers(0, week.spec.capacity))
        if kind != "random" and candidates:
            rule, start = draw(st.sampled_from(candidates))
            interval = Interval(start, start + week.spec.duration)
            if kind == "other-service":
                shifted = start + timedelta(minutes=draw(st.integers(-90, 90)))
                interval = Interval(shifted, shifted + timedelta(minutes=draw(st.integers(15, 120))))
            service_id = SERVICE if kind == "same-block" else OTHER_SERVICE
            wanted.append(Hold(rule.resource_id, interval, service_id, taken, week.spec.capacity))
        else:
            span = draw(intervals_around(week.window.start, (week.last - week.first).days * 24 + 48,
                                         timedelta(hours=4)))
            service_id = draw(st.sampled_from([SERVICE, OTHER_SERVICE]))
            wanted.append(Hold(draw(st.sampled_from(RESOURCES)), span, service_id, taken, week.spec.capacity))
    kept: list[Hold] = []
    for h in wanted:
        clash = any(
            k.resource_id == h.resource_id and k.taken > 0 and k.interval.overlaps(h.interval) for k in kept
        )
        if h.taken == 0 or not clash:
            kept.append(h)
    return kept


@st.composite
def weeks(draw: st.DrawFn) -> Week:
    dst_night = draw(st.booleans())
    if dst_night:  # a week around a night the Paris clock changes
        sunday = draw(st.sampled_from(DST_SUNDAYS))
        first, last = (
            sunday - timedelta(days=draw(st.integers(0, 6))),
            sunday + timedelta(days=draw(st.integers(0, 7))),
        )
    else:
        first = draw(st.dates(date(2026, 1, 1), date(2027, 12, 10)))
        last = first + timedelta(days=draw(st.integers(0, 20)))
    rules = draw(st.lists(weekly_rules(first, last, dst_night), min_size=1, max_size=4))
    zones = {rule.zone.key for rule in rules} | {"Europe/Paris"}
    window = Interval(
        min(local_midnight(first, z) for z in zones),
        max(local_midnight(last, z) + UNTIL_MIDNIGHT for z in zones),
    )
    around = [first + timedelta(days=n) for n in range(-1, (last - first).days + 2)]
    public_masks, school_masks = (
        st.integers(0, 2 ** (3 * len(around))),
        st.integers(0, 2 ** (2 * len(around))),
    )
    closed = ClosedDays(
        public={key: some_days(draw(public_masks), around, 3) for key in ZONES.values()},
        school={z: some_days(draw(school_masks), around, 2) for z in SCHOOL_ZONES},
    )
    spec = ServiceSpec(
        SERVICE,
        timedelta(minutes=draw(st.integers(15, 120))),
        capacity=draw(st.integers(1, 8)),
        min_notice=timedelta(minutes=draw(notices)),
        horizon=timedelta(hours=draw(horizons)),
    )
    hours = (last - first).days * 24 + 24
    # Mostly before the first day (a family looking ahead), sometimes in the middle of the range.
    now = window.start + timedelta(
        minutes=draw(st.one_of(st.integers(-72 * 60, 0), st.integers(0, hours * 60)))
    )
    now = now.astimezone(draw(st.sampled_from([UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion")])))
    week = Week(rules, closed, spec, first, last, window, now, {}, [])
    busy = draw(absences_for(week, hours))
    week = Week(rules, closed, spec, first, last, window, now, busy, [])
    return Week(rules, closed, spec, first, last, window, now, busy, draw(holds_for(week)))


def run(week: Week) -> list[Slot]:
    openings = occurrences(week.rules, week.first, week.last, week.closed)
    return free_slots(openings, week.holds, week.busy, week.spec, week.window, week.now)


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ properties


@PROPERTY
@given(weeks())
def test_no_slot_overlaps_an_absence_or_a_booking_of_its_resource(week: Week) -> None:
    for slot in run(week):
        start, end = slot.start.astimezone(UTC), slot.end.astimezone(UTC)
        assert not any(overlaps(start, end, a) for a in week.busy.get(slot.resource_id, []))
        blocking = blocking_overlaps(week, slot.resource_id, start, end)
        assert all(h.service_id == SERVICE and h.interval == slot.interval for h in blocking)
        assert slot.remaining == week.spec.capacity - sum(h.taken for h in blocking)
        assert slot.remaining > 0


@PROPERTY
@given(weeks())
def test_every_slot_comes_from_an_open_rule_on_its_real_time_grid(week: Week) -> None:
    for slot in run(week):
        rules = explaining_rules(week, slot)
        assert rules, f"no rule of {slot.resource_id} has {slot.start.isoformat()} on its grid"
        assert any(not closed_for(r, slot.start.astimezone(r.zone).date(), week.closed) for r in rules)
        assert slot.interval.duration == week.spec.duration
        assert slot.service_id == SERVICE


@PROPERTY
@given(weeks())
def test_slots_are_sorted_unique_bookable_now_and_inside_the_window(week: Week) -> None:
    slots = run(week)
    keys = [(slot.start.astimezone(UTC), slot.resource_id) for slot in slots]

    assert all(a < b for a, b in pairwise(keys))  # sorted, hence no duplicate
    now = week.now.astimezone(UTC)
    for slot in slots:
        assert now + week.spec.min_notice <= slot.interval.start <= now + week.spec.horizon
        assert week.window.start <= slot.interval.start < week.window.end


@PROPERTY
@given(weeks())
def test_free_slots_are_exactly_those_a_naive_recomputation_finds(week: Week) -> None:
    found = {(slot.resource_id, slot.start.astimezone(UTC), slot.remaining) for slot in run(week)}

    assert found == expected(week)
