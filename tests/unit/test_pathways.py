"""The series search of care pathways: named cases, and properties against a brute-force search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise, product
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain.intervals import resolve_local, time_exists
from scheduler.domain.pathways import Series, Spacing, pathway_series, session_windows
from scheduler.domain.slots import Slot

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
SERVICE = "entretien-psy"
HOUR = timedelta(hours=1)


def slot(day: str, hhmm: str, staff: str = "psy", site: str = "ecole", zone: ZoneInfo = PARIS) -> Slot:
    start = datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), zone)
    return Slot(start, start + HOUR, SERVICE, staff, site, 1)


def starts(found: list[Series]) -> list[list[str]]:
    return [[s.start.isoformat() for s in series.slots] for series in found]


# ------------------------------------------------------------------ named cases


def test_three_wednesdays_at_the_same_hour() -> None:
    slots = [slot(day, at) for day in ("2026-11-18", "2026-11-25", "2026-12-02") for at in ("14:00", "15:00")]

    found = pathway_series(slots, Spacing(3, 7), date(2026, 11, 18), date(2026, 11, 18))

    assert starts(found) == [
        ["2026-11-18T14:00:00+01:00", "2026-11-25T14:00:00+01:00", "2026-12-02T14:00:00+01:00"],
        ["2026-11-18T15:00:00+01:00", "2026-11-25T15:00:00+01:00", "2026-12-02T15:00:00+01:00"],
    ]


def test_a_closed_wednesday_breaks_the_series_without_tolerance() -> None:
    # Armistice day, Wednesday 11 November 2026: the engine gives no slot that day.
    slots = [slot(day, "14:00") for day in ("2026-11-04", "2026-11-12", "2026-11-18")]

    assert pathway_series(slots, Spacing(3, 7), date(2026, 11, 4), date(2026, 11, 4)) == []


def test_a_tolerance_of_one_day_moves_the_session_after_the_holiday() -> None:
    slots = [slot(day, "14:00") for day in ("2026-11-04", "2026-11-12", "2026-11-18")]

    found = pathway_series(slots, Spacing(3, 7, tolerance_days=1), date(2026, 11, 4), date(2026, 11, 4))

    # 12 November is 8 days after the 4th, 18 November 6 days after the 12th: each within 7 ± 1.
    assert starts(found) == [
        ["2026-11-04T14:00:00+01:00", "2026-11-12T14:00:00+01:00", "2026-11-18T14:00:00+01:00"],
    ]


def test_the_same_wall_time_across_the_autumn_clock_change() -> None:
    slots = [slot(day, "10:00") for day in ("2026-10-21", "2026-10-28")]

    found = pathway_series(slots, Spacing(2, 7), date(2026, 10, 21), date(2026, 10, 21))

    assert starts(found) == [["2026-10-21T10:00:00+02:00", "2026-10-28T10:00:00+01:00"]]


def test_another_hour_is_not_a_continuation() -> None:
    slots = [slot("2026-11-18", "14:00"), slot("2026-11-25", "15:00")]

    assert pathway_series(slots, Spacing(2, 7), date(2026, 11, 18), date(2026, 11, 18)) == []


def test_another_site_or_staff_member_is_not_a_continuation() -> None:
    slots = [slot("2026-11-18", "14:00"), slot("2026-11-25", "14:00", site="cmp"),
             slot("2026-11-25", "14:00", staff="as")]

    assert pathway_series(slots, Spacing(2, 7), date(2026, 11, 18), date(2026, 11, 18)) == []


def test_the_earliest_continuation_that_completes_the_series_is_chosen() -> None:
    # Thursday the 26th would be the earliest second session, but nothing follows it within 7 ± 2
    # days (1 to 5 December); Friday the 27th leads to Sunday 6 December.
    slots = [slot("2026-11-19", "09:00"), slot("2026-11-26", "09:00"), slot("2026-11-27", "09:00"),
             slot("2026-12-06", "09:00")]

    found = pathway_series(slots, Spacing(3, 7, tolerance_days=2), date(2026, 11, 19), date(2026, 11, 19))

    assert starts(found) == [
        ["2026-11-19T09:00:00+01:00", "2026-11-27T09:00:00+01:00", "2026-12-06T09:00:00+01:00"],
    ]


def test_series_are_ordered_by_first_start_then_staff_and_paged() -> None:
    slots = [slot(day, "09:00", staff) for day in ("2026-11-18", "2026-11-25") for staff in ("b", "a")]
    slots += [slot("2026-11-18", "10:00", "a"), slot("2026-11-25", "10:00", "a")]
    whole = pathway_series(slots, Spacing(2, 7), date(2026, 11, 18), date(2026, 11, 18))

    first = pathway_series(slots, Spacing(2, 7), date(2026, 11, 18), date(2026, 11, 18), limit=2)
    rest = pathway_series(slots, Spacing(2, 7), date(2026, 11, 18), date(2026, 11, 18),
                          after=first[-1].position)

    assert [(series.staff_id, series.slots[0].start.hour) for series in whole] == [
        ("a", 9), ("b", 9), ("a", 10)]
    assert first + rest == whole


@pytest.mark.parametrize(("sessions", "every_days", "tolerance_days"),
                         [(1, 7, 0), (3, 0, 0), (3, 7, -1), (3, 7, 7), (3, 1, 1)],
                         ids=["one_session", "no_spacing", "negative_tolerance",
                              "tolerance_as_wide_as_spacing", "same_day_possible"])
def test_a_spacing_that_makes_no_series_is_refused(sessions: int, every_days: int,
                                                   tolerance_days: int) -> None:
    with pytest.raises(ValueError):
        Spacing(sessions, every_days, tolerance_days)


# ------------------------------------------------------------------ properties against brute force

Case = tuple[list[Slot], Spacing, date, date]
FIRST_DAY = date(2026, 10, 12)  # two weeks before the Paris autumn clock change
DAYS = 35
WALL_TIMES = (time(9), time(10), time(14))
PLACES = (("psy-1", "ecole", PARIS), ("psy-1", "cmp", PARIS), ("psy-2", "ecole", PARIS),
          ("as-1", "saint-denis", REUNION))


@st.composite
def programmes(draw: st.DrawFn) -> Case:
    """Random free slots of a few staff members and sites, a spacing, and a range of first days."""
    every = draw(st.integers(1, 10))
    spacing = Spacing(draw(st.integers(2, 4)), every, draw(st.integers(0, min(2, every - 1))))
    slots = []
    for staff, site, zone in draw(st.lists(st.sampled_from(PLACES), min_size=1, max_size=3, unique=True)):
        # A regular rhythm with holes (holidays, absences, bookings), plus stray slots.
        # Mostly the rhythm searched for (a weekly psychologist searched weekly), sometimes another.
        rhythm = draw(st.one_of(st.just(every), st.integers(1, 10)))
        regular = {(offset, time(14)) for offset in range(draw(st.integers(0, 6)), DAYS, rhythm)}
        kept = regular - draw(st.sets(st.sampled_from(sorted(regular)), max_size=3))
        stray = draw(st.sets(st.tuples(st.integers(0, DAYS - 1), st.sampled_from(WALL_TIMES)), max_size=10))
        for offset, wall in kept | stray:
            start = datetime.combine(FIRST_DAY + timedelta(days=offset), wall, zone)
            slots.append(Slot(start, start + HOUR, SERVICE, staff, site, 1))
    first = FIRST_DAY + timedelta(days=draw(st.integers(0, DAYS - 1)))
    return slots, spacing, first, first + timedelta(days=draw(st.integers(0, 14)))


def brute_force(slots: list[Slot], spacing: Spacing, first: date, last: date) -> list[tuple[str, ...]]:
    """Every tuple of one place's slots that is a series, the earliest per first slot, in order.

    Written from the definition alone: same staff member and site, same local wall time, each
    local date ``every_days`` ± ``tolerance_days`` after the previous one, the first in range.
    """
    places: dict[tuple[str, str | None], list[Slot]] = defaultdict(list)
    for one in slots:
        places[one.resource_id, one.site_id].append(one)
    best: dict[tuple[datetime, str, str], tuple[datetime, ...]] = {}
    low, high = spacing.every_days - spacing.tolerance_days, spacing.every_days + spacing.tolerance_days
    def spaced(a: Slot, b: Slot) -> bool:
        return b.start.time() == a.start.time() and low <= (b.start.date() - a.start.date()).days <= high

    def chains(own: list[Slot], chain: tuple[Slot, ...]) -> Iterator[tuple[Slot, ...]]:
        # Every sequence of the place's slots, cut short as soon as one pair is not spaced as asked.
        if len(chain) == spacing.sessions:
            yield chain
            return
        for one in own:
            if spaced(chain[-1], one):
                yield from chains(own, (*chain, one))

    for (staff, site), own in places.items():
        for opener in own:
            if not first <= opener.start.date() <= last:
                continue
            for chain in chains(own, (opener,)):
                key = (chain[0].start.astimezone(UTC), staff, site or "")
                utc = tuple(one.start.astimezone(UTC) for one in chain)
                best[key] = min(best.get(key, utc), utc)
    return [(key[1], key[2], *(instant.isoformat() for instant in best[key])) for key in sorted(best)]


def flat(found: list[Series]) -> list[tuple[str, ...]]:
    return [(series.staff_id, series.site_id or "",
             *(one.start.astimezone(UTC).isoformat() for one in series.slots)) for series in found]


@settings(max_examples=200, deadline=None)
@given(programmes())
def test_the_series_are_exactly_those_a_brute_force_search_finds(case: Case) -> None:
    slots, spacing, first, last = case

    assert flat(pathway_series(slots, spacing, first, last)) == brute_force(slots, spacing, first, last)


@settings(max_examples=200, deadline=None)
@given(programmes())
def test_every_series_is_made_of_given_slots_spaced_as_asked(case: Case) -> None:
    slots, spacing, first, last = case
    given_slots = {(one.resource_id, one.site_id, one.start) for one in slots}

    for series in pathway_series(slots, spacing, first, last):
        assert len(series.slots) == spacing.sessions
        assert first <= series.slots[0].start.date() <= last
        assert {(one.resource_id, one.site_id, one.start) for one in series.slots} <= given_slots
        assert {(one.resource_id, one.site_id) for one in series.slots} == {(series.staff_id, series.site_id)}
        for a, b in pairwise(series.slots):
            assert b.start.time() == a.start.time()
            assert abs((b.start.date() - a.start.date()).days - spacing.every_days) <= spacing.tolerance_days


@settings(max_examples=150, deadline=None)
@given(programmes(), st.integers(1, 4))
def test_pages_followed_one_after_another_give_every_series_once(
    case: Case, limit: int
) -> None:
    slots, spacing, first, last = case
    pages: list[Series] = []
    after = None
    while True:
        page = pathway_series(slots, spacing, first, last, after=after, limit=limit)
        pages += page
        if len(page) < limit:
            break
        after = page[-1].position

    assert pages == pathway_series(slots, spacing, first, last)


# ------------------------------------------------------------------ the hours later sessions are read at

WINDOW_ZONES = (PARIS, REUNION, ZoneInfo("America/New_York"))
# 02:30 does not exist in Paris on the last Sunday of March and happens twice on the last of October.
WINDOW_WALLS = (time(2, 30), time(9), time(13, 45), time(23, 30))


@st.composite
def spacings(draw: st.DrawFn) -> Spacing:
    every = draw(st.integers(1, 14))
    return Spacing(draw(st.integers(2, 5)), every, draw(st.integers(0, min(3, every - 1))))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.sampled_from(WINDOW_WALLS), st.sampled_from(WINDOW_ZONES)),
                min_size=1, max_size=6), spacings())
def test_every_later_session_a_spacing_allows_falls_in_its_window(
    firsts: list[tuple[int, time, ZoneInfo]], spacing: Spacing
) -> None:
    starts = sorted((resolve_local(FIRST_DAY + timedelta(days=offset), wall, zone)
                     for offset, wall, zone in firsts), key=lambda start: start.astimezone(UTC))

    windows = session_windows(starts, spacing)

    assert len(windows) == spacing.sessions
    for start in starts:
        assert windows[0].start <= start < windows[0].end
        for k in range(1, spacing.sessions):
            shifts = range(k * (spacing.every_days - spacing.tolerance_days),
                           k * (spacing.every_days + spacing.tolerance_days) + 1)
            for shift, fold in product(shifts, (0, 1)):
                day = start.date() + timedelta(days=shift)
                later = datetime.combine(day, start.time().replace(fold=fold), start.tzinfo)
                if not time_exists(later):  # no slot has a wall time the clocks skip
                    continue
                assert windows[k].start <= later < windows[k].end, (k, later)
