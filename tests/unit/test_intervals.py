"""Intervals in real time, and the one place wall times become instants (DST by name)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.intervals import (
    Interval,
    covered,
    merge,
    require_aware,
    resolve_local,
    time_exists,
    utc,
)
from tests.builders import paris


def test_interval_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError, match="start must carry a UTC offset"):
        Interval(datetime(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0))


def test_interval_rejects_a_naive_end() -> None:
    with pytest.raises(ValueError, match="end must carry a UTC offset"):
        Interval(paris(2026, 11, 25, 9, 0), datetime(2026, 11, 25, 10, 0))


def test_interval_rejects_an_empty_span() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 9, 0))


def test_interval_rejects_an_end_before_its_start() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Interval(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 9, 0))


def test_interval_is_held_in_utc() -> None:
    interval = Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0))

    assert interval.start.isoformat() == "2026-11-25T08:00:00+00:00"
    assert interval.end.isoformat() == "2026-11-25T09:00:00+00:00"


def test_interval_duration_is_real_time_across_the_spring_gap() -> None:
    # 01:00 -> 04:00 on the wall, but 02:00-03:00 never happens that night.
    assert Interval(paris(2026, 3, 29, 1, 0), paris(2026, 3, 29, 4, 0)).duration == timedelta(hours=2)


def test_the_two_half_past_two_of_an_autumn_night_are_an_hour_apart() -> None:
    first, second = paris(2026, 10, 25, 2, 30), paris(2026, 10, 25, 2, 30, fold=1)

    assert Interval(first, second).duration == timedelta(hours=1)


def test_touching_intervals_do_not_overlap() -> None:
    nine_to_ten = Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0))
    ten_to_eleven = Interval(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0))

    assert not nine_to_ten.overlaps(ten_to_eleven)
    assert not ten_to_eleven.overlaps(nine_to_ten)


def test_intervals_sharing_a_minute_overlap_both_ways() -> None:
    nine_to_ten = Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0))
    late = Interval(paris(2026, 11, 25, 9, 59), paris(2026, 11, 25, 11, 0))

    assert nine_to_ten.overlaps(late)
    assert late.overlaps(nine_to_ten)


def test_intervals_in_different_zones_overlap_by_instant() -> None:
    paris_nine = Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0))  # 08:00Z
    reunion_noon = Interval(  # 12:00+04:00 is 08:00Z too
        datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Indian/Reunion")),
        datetime(2026, 11, 25, 12, 30, tzinfo=ZoneInfo("Indian/Reunion")),
    )

    assert paris_nine.overlaps(reunion_noon)
    assert paris_nine.contains(reunion_noon)


def test_contains_accepts_shared_ends_and_refuses_a_spill() -> None:
    morning = Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 12, 0))

    assert morning.contains(morning)
    assert morning.contains(Interval(paris(2026, 11, 25, 11, 0), paris(2026, 11, 25, 12, 0)))
    assert not morning.contains(Interval(paris(2026, 11, 25, 11, 30), paris(2026, 11, 25, 12, 30)))
    assert not morning.contains(Interval(paris(2026, 11, 25, 8, 30), paris(2026, 11, 25, 9, 30)))


def test_merge_joins_overlapping_and_touching_and_keeps_gaps_sorted() -> None:
    merged = merge(
        [
            Interval(paris(2026, 11, 25, 14, 0), paris(2026, 11, 25, 15, 0)),
            Interval(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0)),  # touches 9-10
            Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0)),
            Interval(paris(2026, 11, 25, 9, 15), paris(2026, 11, 25, 9, 45)),  # inside 9-10
            Interval(paris(2026, 11, 25, 10, 30), paris(2026, 11, 25, 12, 0)),  # overlaps 10-11
        ]
    )

    assert [(i.start.isoformat(), i.end.isoformat()) for i in merged] == [
        ("2026-11-25T08:00:00+00:00", "2026-11-25T11:00:00+00:00"),
        ("2026-11-25T13:00:00+00:00", "2026-11-25T14:00:00+00:00"),
    ]


def test_merge_of_nothing_is_nothing() -> None:
    assert merge([]) == []


def test_covered_by_touching_blocks_but_not_across_a_hole() -> None:
    blocks = [
        Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0)),
        Interval(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0)),
        Interval(paris(2026, 11, 25, 11, 30), paris(2026, 11, 25, 12, 0)),
    ]

    assert covered(Interval(paris(2026, 11, 25, 9, 30), paris(2026, 11, 25, 10, 30)), blocks)
    assert not covered(Interval(paris(2026, 11, 25, 10, 30), paris(2026, 11, 25, 11, 45)), blocks)
    assert not covered(Interval(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0)), [])


def test_utc_gives_the_same_instant_in_utc() -> None:
    assert utc(paris(2026, 7, 1, 9, 0)).isoformat() == "2026-07-01T07:00:00+00:00"


def test_utc_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="must carry a UTC offset"):
        utc(datetime(2026, 7, 1, 9, 0))


def test_require_aware_names_the_offending_field() -> None:
    with pytest.raises(ValueError, match="^now must carry a UTC offset: 2026-07-01T09:00:00$"):
        require_aware(datetime(2026, 7, 1, 9, 0), "now")
    aware = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert require_aware(aware, "now") is aware


@pytest.mark.parametrize(
    ("wall", "exists"),
    [
        pytest.param(paris(2026, 3, 29, 1, 59), True, id="paris_before_spring_gap"),
        pytest.param(paris(2026, 3, 29, 2, 0), False, id="paris_spring_gap_first_minute"),
        pytest.param(paris(2026, 3, 29, 2, 30), False, id="paris_spring_gap"),
        pytest.param(paris(2026, 3, 29, 3, 0), True, id="paris_after_spring_gap"),
        pytest.param(paris(2026, 10, 25, 2, 30), True, id="paris_autumn_fold_first"),
        pytest.param(paris(2026, 10, 25, 2, 30, fold=1), True, id="paris_autumn_fold_second"),
        pytest.param(
            datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Indian/Reunion")), True, id="reunion_no_dst"
        ),
    ],
)
def test_time_exists(wall: datetime, exists: bool) -> None:
    assert time_exists(wall) is exists


@pytest.mark.parametrize(
    ("day", "at", "zone", "expected"),
    [
        pytest.param(
            date(2026, 11, 25), time(9, 0), "Europe/Paris", "2026-11-25T09:00:00+01:00", id="paris_winter"
        ),
        pytest.param(
            date(2026, 7, 1), time(9, 0), "Europe/Paris", "2026-07-01T09:00:00+02:00", id="paris_summer"
        ),
        pytest.param(
            date(2026, 3, 29),
            time(1, 59),
            "Europe/Paris",
            "2026-03-29T01:59:00+01:00",
            id="paris_before_spring_gap",
        ),
        pytest.param(
            date(2026, 3, 29),
            time(2, 0),
            "Europe/Paris",
            "2026-03-29T03:00:00+02:00",
            id="paris_spring_gap_start",
        ),
        pytest.param(
            date(2026, 3, 29), time(2, 30), "Europe/Paris", "2026-03-29T03:30:00+02:00", id="paris_spring_gap"
        ),
        pytest.param(
            date(2026, 3, 29),
            time(3, 0),
            "Europe/Paris",
            "2026-03-29T03:00:00+02:00",
            id="paris_after_spring_gap",
        ),
        pytest.param(
            date(2026, 10, 25),
            time(2, 30),
            "Europe/Paris",
            "2026-10-25T02:30:00+02:00",
            id="paris_autumn_fold",
        ),
        pytest.param(
            date(2026, 10, 25),
            time(3, 0),
            "Europe/Paris",
            "2026-10-25T03:00:00+01:00",
            id="paris_after_autumn_fold",
        ),
        pytest.param(
            date(2027, 3, 28),
            time(2, 30),
            "Europe/Paris",
            "2027-03-28T03:30:00+02:00",
            id="paris_spring_gap_2027",
        ),
        pytest.param(
            date(2027, 10, 31),
            time(2, 30),
            "Europe/Paris",
            "2027-10-31T02:30:00+02:00",
            id="paris_autumn_fold_2027",
        ),
        pytest.param(
            date(2026, 3, 29),
            time(2, 30),
            "Indian/Reunion",
            "2026-03-29T02:30:00+04:00",
            id="reunion_no_dst_spring",
        ),
        pytest.param(
            date(2026, 10, 25),
            time(2, 30),
            "Indian/Reunion",
            "2026-10-25T02:30:00+04:00",
            id="reunion_no_dst_autumn",
        ),
        pytest.param(
            date(2026, 3, 29), time(2, 30), "America/Cayenne", "2026-03-29T02:30:00-03:00", id="cayenne"
        ),
        pytest.param(
            date(2026, 10, 25), time(2, 30), "Pacific/Noumea", "2026-10-25T02:30:00+11:00", id="noumea"
        ),
        pytest.param(
            date(2026, 3, 8),
            time(2, 30),
            "America/Miquelon",
            "2026-03-08T03:30:00-02:00",
            id="miquelon_spring_gap",
        ),
        pytest.param(
            date(2026, 11, 1),
            time(1, 30),
            "America/Miquelon",
            "2026-11-01T01:30:00-02:00",
            id="miquelon_autumn_fold",
        ),
    ],
)
def test_resolve_local(day: date, at: time, zone: str, expected: str) -> None:
    assert resolve_local(day, at, ZoneInfo(zone)).isoformat() == expected


def test_resolve_local_gives_the_first_instant_of_the_fold() -> None:
    # isoformat shows the offset; the fold flag is what makes the instant the earlier one.
    resolved = resolve_local(date(2026, 10, 25), time(2, 30), ZoneInfo("Europe/Paris"))

    assert resolved.astimezone(UTC).isoformat() == "2026-10-25T00:30:00+00:00"
