"""The slot engine on the programmes' own cases: expected times written as the family would read them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import pytest

from scheduler.domain.calendars import ClosedDays
from scheduler.domain.intervals import Interval
from scheduler.domain.rules import WeeklyRule, days, local_dates, occurrences
from scheduler.domain.slots import Hold, ServiceSpec, Slot, free_slots
from scheduler.french_calendar import FrenchHolidayCalendar
from tests.builders import (
    FRIDAY,
    MONDAY,
    PARIS,
    REUNION,
    SUNDAY,
    THURSDAY,
    WEDNESDAY,
    absence,
    collective_session,
    hold,
    local,
    local_days,
    office_hours,
    one_hour_service,
    paris,
    school_permanence,
    service,
    wednesday_rule,
    weekly_rule,
)


def find(
    rules: Sequence[WeeklyRule],
    first: date,
    last: date,
    spec: ServiceSpec,
    *,
    now: datetime,
    closed: ClosedDays | None = None,
    holds: Sequence[Hold] = (),
    busy: Mapping[str, Sequence[Interval]] | None = None,
    zone: str = "Europe/Paris",
) -> list[Slot]:
    """What the service layer does: weekly rules -> openings -> free slots on local days."""
    openings = occurrences(rules, first, last, closed or ClosedDays())
    return free_slots(openings, holds, busy or {}, spec, local_days(first, last, zone), now)


def starts(slots: Sequence[Slot]) -> list[str]:
    return [slot.start.isoformat() for slot in slots]


def ends(slots: Sequence[Slot]) -> list[str]:
    return [slot.end.isoformat() for slot in slots]


# ---------------------------------------------------------------------------- weekly rules


def test_psychologist_receives_in_one_hour_slots_on_wednesday_morning() -> None:
    # Current time: Friday 20 November 2026, 08:00.
    slots = find([wednesday_rule()], date(2026, 11, 23), date(2026, 11, 29), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0))

    assert starts(slots) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
    ]
    assert ends(slots) == [
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
        "2026-11-25T12:00:00+01:00",
    ]
    assert {(s.resource_id, s.site_id, s.service_id, s.remaining) for s in slots} == {
        ("psy", "ccas", "point-ecoute", 1)
    }


def test_no_slot_on_armistice_day() -> None:
    armistice = ClosedDays(public={"FR": frozenset({date(2026, 11, 11)})})

    slots = find([wednesday_rule()], date(2026, 11, 9), date(2026, 11, 18), one_hour_service(),
                 now=paris(2026, 11, 2, 8, 0), closed=armistice)

    assert starts(slots) == [
        "2026-11-18T09:00:00+01:00",
        "2026-11-18T10:00:00+01:00",
        "2026-11-18T11:00:00+01:00",
    ]


def test_no_slot_on_armistice_day_from_the_real_french_calendar() -> None:
    first, last = date(2026, 11, 9), date(2026, 11, 18)
    closed = FrenchHolidayCalendar().closed_days(["FR"], [], first, last)

    slots = find([wednesday_rule(start="09:00", end="10:00")], first, last, one_hour_service(),
                 now=paris(2026, 11, 2, 8, 0), closed=closed)

    assert starts(slots) == ["2026-11-18T09:00:00+01:00"]


def test_a_holiday_of_another_calendar_does_not_close_the_rule() -> None:
    reunion_only = ClosedDays(public={"FR-974": frozenset({date(2026, 11, 25)})})

    slots = find([wednesday_rule(end="10:00")], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), closed=reunion_only)

    assert starts(slots) == ["2026-11-25T09:00:00+01:00"]


def test_good_friday_closes_moselle_but_not_the_mainland() -> None:
    first, last = date(2027, 3, 22), date(2027, 4, 2)
    metz = weekly_rule(resource="as-metz", weekday=FRIDAY, start="09:00", end="10:00", calendar="FR-57")
    lyon = weekly_rule(resource="as-lyon", weekday=FRIDAY, start="09:00", end="10:00", calendar="FR")
    closed = FrenchHolidayCalendar().closed_days(["FR", "FR-57"], [], first, last)

    slots = find([metz, lyon], first, last, one_hour_service(), now=paris(2027, 3, 1, 8, 0), closed=closed)

    assert [(s.resource_id, s.start.isoformat()) for s in slots] == [
        ("as-lyon", "2027-03-26T09:00:00+01:00"),
        ("as-lyon", "2027-04-02T09:00:00+02:00"),
        ("as-metz", "2027-04-02T09:00:00+02:00"),
    ]


def test_reunion_closes_on_the_abolition_of_slavery_day() -> None:
    first, last = date(2027, 12, 20), date(2027, 12, 27)  # two Mondays
    saint_denis = weekly_rule(
        resource="as-974",
        weekday=MONDAY,
        start="08:00",
        end="09:00",
        zone="Indian/Reunion",
        calendar="FR-974",
    )
    closed = FrenchHolidayCalendar().closed_days(["FR-974"], [], first, last)

    slots = find([saint_denis], first, last, one_hour_service(), now=paris(2027, 12, 1, 8, 0), closed=closed,
                 zone="Indian/Reunion")

    assert starts(slots) == ["2027-12-27T08:00:00+04:00"]


def test_mainland_stays_open_on_the_twentieth_of_december() -> None:
    first, last = date(2027, 12, 20), date(2027, 12, 20)
    closed = FrenchHolidayCalendar().closed_days(["FR"], [], first, last)
    rule = weekly_rule(resource="as-1", weekday=MONDAY, start="08:00", end="09:00")

    slots = find([rule], first, last, one_hour_service(), now=paris(2027, 12, 1, 8, 0), closed=closed)

    assert starts(slots) == ["2027-12-20T08:00:00+01:00"]


def test_school_permanence_follows_zone_a_christmas_holidays_while_office_hours_stay_open() -> None:
    first, last = date(2026, 12, 14), date(2027, 1, 4)  # four Mondays
    closed = FrenchHolidayCalendar().closed_days(["FR"], ["A"], first, last)
    rules = [school_permanence(resource="as-1"), office_hours(resource="as-2")]

    slots = find(rules, first, last, one_hour_service("entretien-social"), now=paris(2026, 12, 1, 8, 0),
                 closed=closed)

    mondays_at_half_past_eight = [(s.resource_id, s.start.isoformat()) for s in slots if s.start.hour == 8]
    assert mondays_at_half_past_eight == [
        ("as-1", "2026-12-14T08:30:00+01:00"),
        ("as-2", "2026-12-14T08:30:00+01:00"),
        ("as-2", "2026-12-21T08:30:00+01:00"),
        ("as-2", "2026-12-28T08:30:00+01:00"),
        ("as-1", "2027-01-04T08:30:00+01:00"),
        ("as-2", "2027-01-04T08:30:00+01:00"),
    ]
    assert len(slots) == 6 * 3  # 08:30, 09:30 and 10:30 each open Monday


def test_school_holidays_of_another_zone_do_not_close_the_permanence() -> None:
    zone_c_only = ClosedDays(school={"C": frozenset({date(2027, 2, 8)})})

    slots = find([school_permanence(zone_letter="A")], date(2027, 2, 8), date(2027, 2, 8),
                 one_hour_service("entretien-social"), now=paris(2027, 2, 1, 8, 0), closed=zone_c_only)

    assert starts(slots) == [
        "2027-02-08T08:30:00+01:00",
        "2027-02-08T09:30:00+01:00",
        "2027-02-08T10:30:00+01:00",
    ]


def test_a_permanence_at_a_site_without_zone_closes_only_on_public_holidays() -> None:
    closed = ClosedDays(school={"A": frozenset({date(2027, 2, 15)})})

    slots = find(
        [school_permanence(zone_letter=None, half_day="afternoon")],
        date(2027, 2, 15),
        date(2027, 2, 15),
        one_hour_service("entretien-social"),
        now=paris(2027, 2, 1, 8, 0),
        closed=closed,
    )

    assert starts(slots) == [
        "2027-02-15T13:30:00+01:00",
        "2027-02-15T14:30:00+01:00",
        "2027-02-15T15:30:00+01:00",
    ]


def test_a_rule_gives_nothing_before_it_starts_or_after_it_ends() -> None:
    rule = wednesday_rule(end="10:00", valid_from=date(2026, 11, 18), valid_until=date(2026, 11, 25))

    slots = find(
        [rule], date(2026, 11, 9), date(2026, 12, 6), one_hour_service(), now=paris(2026, 11, 2, 8, 0)
    )

    assert starts(slots) == ["2026-11-18T09:00:00+01:00", "2026-11-25T09:00:00+01:00"]


def test_a_rule_for_other_services_gives_no_slot() -> None:
    rule = wednesday_rule(services=("entretien-social",))

    assert (
        find([rule], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(), now=paris(2026, 11, 20))
        == []
    )


def test_a_rule_offers_only_its_own_services() -> None:
    rule = school_permanence(services=("entretien-social", "aide-devoirs"))

    assert rule.offers("aide-devoirs")
    assert not rule.offers("point-ecoute")


def test_weekly_rule_refuses_impossible_values() -> None:
    with pytest.raises(ValueError, match="weekday"):
        weekly_rule(resource="psy", weekday=0, start="09:00", end="12:00")
    with pytest.raises(ValueError, match="weekday"):
        weekly_rule(resource="psy", weekday=8, start="09:00", end="12:00")
    with pytest.raises(ValueError, match="end after it starts"):
        weekly_rule(resource="psy", weekday=WEDNESDAY, start="12:00", end="12:00")
    with pytest.raises(ValueError, match="valid_until"):
        wednesday_rule(valid_from=date(2026, 9, 1), valid_until=date(2026, 8, 31))


def test_days_lists_both_ends_and_local_dates_reads_each_zone() -> None:
    assert list(days(date(2026, 12, 30), date(2027, 1, 2))) == [
        date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2),
    ]
    # 21:30 in Paris on the 31st is already New Year's Day 00:30 in La Réunion.
    assert local_dates([paris(2026, 12, 31, 21, 30)], REUNION) == {date(2027, 1, 1)}
    assert local_dates([paris(2026, 12, 31, 21, 30)], PARIS) == {date(2026, 12, 31)}


# ---------------------------------------------------------------------------- absences and holds


def test_absence_removes_overlapping_slot_without_shifting_the_grid() -> None:
    busy = {"psy": [absence(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 9, 30))]}

    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), busy=busy)

    assert starts(slots) == ["2026-11-25T10:00:00+01:00", "2026-11-25T11:00:00+01:00"]


def test_absence_of_another_resource_or_ending_at_the_slot_start_changes_nothing() -> None:
    busy = {
        "as-1": [absence(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 12, 0))],
        "psy": [absence(paris(2026, 11, 25, 8, 0), paris(2026, 11, 25, 9, 0))],
    }

    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), busy=busy)

    assert starts(slots) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
    ]


def test_a_long_absence_removes_every_slot_it_spans() -> None:
    busy = {"psy": [absence(paris(2026, 11, 24, 18, 0), paris(2026, 11, 25, 11, 1))]}

    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), busy=busy)

    assert slots == []


def test_a_booked_hold_removes_its_slot() -> None:
    holds = [hold(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0))]

    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), holds=holds)

    assert starts(slots) == ["2026-11-25T09:00:00+01:00", "2026-11-25T11:00:00+01:00"]


def test_a_fully_cancelled_hold_frees_its_slot_again() -> None:
    holds = [hold(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0), taken=0)]

    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), holds=holds)

    assert starts(slots) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
    ]


def test_a_hold_of_another_resource_does_not_block() -> None:
    holds = [hold(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0), resource="interprete-ar")]

    slots = find([wednesday_rule(end="11:00")], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 20, 8, 0), holds=holds)

    assert starts(slots) == ["2026-11-25T09:00:00+01:00", "2026-11-25T10:00:00+01:00"]


def _parents_group(taken: int) -> list[Slot]:
    group = collective_session(capacity=8)
    rule = weekly_rule(resource="educ", weekday=THURSDAY, start="14:00", end="16:00", services=[group.id])
    holds = [
        hold(
            paris(2026, 11, 26, 14, 0),
            paris(2026, 11, 26, 16, 0),
            resource="educ",
            service_id=group.id,
            taken=taken,
            capacity=8,
        )
    ]
    return find(
        [rule], date(2026, 11, 26), date(2026, 12, 3), group, now=paris(2026, 11, 20, 8, 0), holds=holds
    )


def test_collective_session_shows_its_remaining_places() -> None:
    slots = _parents_group(taken=3)

    assert [(s.start.isoformat(), s.end.isoformat(), s.remaining) for s in slots] == [
        ("2026-11-26T14:00:00+01:00", "2026-11-26T16:00:00+01:00", 5),
        ("2026-12-03T14:00:00+01:00", "2026-12-03T16:00:00+01:00", 8),
    ]


def test_a_full_collective_session_is_gone() -> None:
    assert starts(_parents_group(taken=8)) == ["2026-12-03T14:00:00+01:00"]


def test_an_interview_booked_in_a_group_slot_blocks_the_group() -> None:
    group = collective_session(capacity=8)
    rule = weekly_rule(resource="psy", weekday=THURSDAY, start="14:00", end="16:00",
                       services=[group.id, "point-ecoute"])
    interview = [hold(paris(2026, 11, 26, 15, 0), paris(2026, 11, 26, 16, 0), service_id="point-ecoute")]

    slots = find([rule], date(2026, 11, 26), date(2026, 11, 26), group, now=paris(2026, 11, 20, 8, 0),
                 holds=interview)

    assert slots == []


def test_a_group_block_at_another_time_blocks_the_overlapping_slots() -> None:
    # Same service, but not the same block: the psychologist cannot be in two groups at once.
    group = collective_session(capacity=8, minutes=60)
    rule = weekly_rule(resource="psy", weekday=THURSDAY, start="14:00", end="17:00", services=[group.id])
    shifted = [hold(paris(2026, 11, 26, 14, 30), paris(2026, 11, 26, 15, 30), service_id=group.id, taken=2,
                    capacity=8)]

    slots = find([rule], date(2026, 11, 26), date(2026, 11, 26), group, now=paris(2026, 11, 20, 8, 0),
                 holds=shifted)

    assert [(s.start.isoformat(), s.remaining) for s in slots] == [("2026-11-26T16:00:00+01:00", 8)]


def test_a_session_booked_under_a_smaller_capacity_keeps_that_capacity() -> None:
    # The block was created when the group took 6; raising the service to 8 later does not
    # invent places in a room set up for 6.
    group = collective_session(capacity=8)
    rule = weekly_rule(resource="educ", weekday=THURSDAY, start="14:00", end="16:00", services=[group.id])
    holds = [
        hold(
            paris(2026, 11, 26, 14, 0),
            paris(2026, 11, 26, 16, 0),
            resource="educ",
            service_id=group.id,
            taken=2,
            capacity=6,
        )
    ]

    slots = find(
        [rule], date(2026, 11, 26), date(2026, 11, 26), group, now=paris(2026, 11, 20, 8, 0), holds=holds
    )

    assert [s.remaining for s in slots] == [4]


def test_an_earlier_long_hold_still_blocks_past_a_shorter_later_one() -> None:
    # Corrupt or legacy data: two overlapping blocking holds. The long one must still be seen.
    # Without the holds, the rule gives the 10:00 slot; with them, the 08:00-12:00 hold takes it
    # even though the 09:00-09:30 hold, which starts later, ends before 10:00.
    holds = [
        hold(paris(2026, 11, 25, 8, 0), paris(2026, 11, 25, 12, 0), service_id="reunion-equipe"),
        hold(paris(2026, 11, 25, 9, 0), paris(2026, 11, 25, 9, 30), service_id="reunion-equipe"),
    ]
    rule = wednesday_rule(start="10:00", end="11:00")
    now = paris(2026, 11, 20, 8, 0)

    free = find([rule], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(), now=now)
    held = find([rule], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(), now=now, holds=holds)

    assert starts(free) == ["2026-11-25T10:00:00+01:00"]
    assert held == []


# ---------------------------------------------------------------------------- notice, horizon, window


def test_slots_inside_the_minimum_notice_are_hidden() -> None:
    # Current time: Monday 23 November 2026, 10:00; 48 hours' notice reaches Wednesday 10:00.
    spec = one_hour_service(min_notice=timedelta(hours=48))

    slots = find(
        [wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), spec, now=paris(2026, 11, 23, 10, 0)
    )

    assert starts(slots) == ["2026-11-25T10:00:00+01:00", "2026-11-25T11:00:00+01:00"]


def test_slots_past_the_horizon_are_hidden() -> None:
    # Current time: Wednesday 25 November 2026, 09:00; a 7-day horizon reaches 2 December 09:00.
    spec = one_hour_service(horizon=timedelta(days=7))

    slots = find(
        [wednesday_rule()], date(2026, 11, 25), date(2026, 12, 9), spec, now=paris(2026, 11, 25, 9, 0)
    )

    assert starts(slots) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
        "2026-12-02T09:00:00+01:00",
    ]


def test_slots_already_started_are_hidden() -> None:
    slots = find([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), one_hour_service(),
                 now=paris(2026, 11, 25, 9, 1))

    assert starts(slots) == ["2026-11-25T10:00:00+01:00", "2026-11-25T11:00:00+01:00"]


def test_now_must_be_aware() -> None:
    openings = occurrences([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), ClosedDays())

    with pytest.raises(ValueError, match="now must carry a UTC offset"):
        free_slots(openings, [], {}, one_hour_service(), local_days(date(2026, 11, 25), date(2026, 11, 25)),
                   datetime(2026, 11, 20, 8, 0))


def test_only_slots_starting_inside_the_window_are_returned() -> None:
    openings = occurrences([wednesday_rule()], date(2026, 11, 25), date(2026, 11, 25), ClosedDays())
    window = Interval(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 11, 0))

    slots = free_slots(openings, [], {}, one_hour_service(), window, paris(2026, 11, 20, 8, 0))

    assert starts(slots) == ["2026-11-25T10:00:00+01:00"]


# ---------------------------------------------------------------------------- DST and overseas


def test_spring_forward_sunday_slots_last_one_real_hour() -> None:
    rule = weekly_rule(resource="astreinte", weekday=SUNDAY, start="01:00", end="05:00")

    slots = find(
        [rule], date(2026, 3, 29), date(2026, 3, 29), one_hour_service(), now=paris(2026, 3, 20, 8, 0)
    )

    # 01:00 -> 05:00 on the wall is three real hours that night.
    assert starts(slots) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]
    assert ends(slots) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
        "2026-03-29T05:00:00+02:00",
    ]
    assert [s.interval.duration for s in slots] == [timedelta(hours=1)] * 3


def test_autumn_fold_sunday_slots_last_one_real_hour() -> None:
    rule = weekly_rule(resource="astreinte", weekday=SUNDAY, start="01:00", end="05:00")

    slots = find(
        [rule], date(2026, 10, 25), date(2026, 10, 25), one_hour_service(), now=paris(2026, 10, 20, 8, 0)
    )

    # 01:00 -> 05:00 on the wall is five real hours that night; 02:00 happens twice.
    assert starts(slots) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]
    assert [s.interval.duration for s in slots] == [timedelta(hours=1)] * 5


def test_a_rule_starting_in_the_autumn_fold_starts_at_the_first_half_past_two() -> None:
    rule = weekly_rule(resource="astreinte", weekday=SUNDAY, start="02:30", end="03:00", services=["veille"])

    slots = find(
        [rule], date(2026, 10, 25), date(2026, 10, 25), service("veille", 30), now=paris(2026, 10, 20, 8, 0)
    )

    # 02:30 (+02:00) to 03:00 (+01:00) is an hour and a half of real time: three 30-minute slots.
    assert starts(slots) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
    ]


def test_a_rule_wholly_inside_the_spring_gap_gives_no_slot_that_night() -> None:
    # 02:15-03:00 never shows on a Paris clock on 29 March 2026; the week after it does.
    rule = weekly_rule(resource="astreinte", weekday=SUNDAY, start="02:15", end="03:00", services=["veille"])

    slots = find(
        [rule], date(2026, 3, 29), date(2026, 4, 5), service("veille", 45), now=paris(2026, 3, 20, 8, 0)
    )

    assert starts(slots) == ["2026-04-05T02:15:00+02:00"]


def test_reunion_rule_gives_slots_in_reunion_time() -> None:
    rule = wednesday_rule(resource="psy-974", site="ccas-saint-denis", start="08:00", end="10:00",
                          zone="Indian/Reunion", calendar="FR-974", valid_from=date(2026, 1, 1))

    slots = find(
        [rule],
        date(2026, 3, 25),
        date(2026, 4, 1),
        one_hour_service(),
        now=paris(2026, 3, 20, 8, 0),
        zone="Indian/Reunion",
    )

    # No DST in La Réunion: the same +04:00 either side of the Paris change.
    assert starts(slots) == [
        "2026-03-25T08:00:00+04:00",
        "2026-03-25T09:00:00+04:00",
        "2026-04-01T08:00:00+04:00",
        "2026-04-01T09:00:00+04:00",
    ]


# ---------------------------------------------------------------------------- merging and ordering


def test_two_overlapping_rules_of_one_resource_do_not_duplicate_slots() -> None:
    rules = [wednesday_rule(start="09:00", end="12:00"), wednesday_rule(start="10:00", end="12:00")]

    slots = find(
        rules, date(2026, 11, 25), date(2026, 11, 25), one_hour_service(), now=paris(2026, 11, 20, 8, 0)
    )

    assert starts(slots) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-25T10:00:00+01:00",
        "2026-11-25T11:00:00+01:00",
    ]


def test_slots_are_ordered_by_real_start_then_resource() -> None:
    rules = [
        wednesday_rule(resource="psy-b", start="09:00", end="10:00"),
        wednesday_rule(resource="psy-a", start="09:00", end="10:00"),
        wednesday_rule(
            resource="psy-974", start="11:00", end="12:00", zone="Indian/Reunion", calendar="FR-974"
        ),
        wednesday_rule(resource="psy-c", start="08:00", end="09:00"),
    ]

    slots = find(
        rules, date(2026, 11, 25), date(2026, 11, 25), one_hour_service(), now=paris(2026, 11, 20, 8, 0)
    )

    # 11:00 in La Réunion is 08:00 in Paris.
    assert [(s.resource_id, s.start.isoformat()) for s in slots] == [
        ("psy-974", "2026-11-25T11:00:00+04:00"),
        ("psy-c", "2026-11-25T08:00:00+01:00"),
        ("psy-a", "2026-11-25T09:00:00+01:00"),
        ("psy-b", "2026-11-25T09:00:00+01:00"),
    ]


# ---------------------------------------------------------------------------- value objects


def test_service_spec_refuses_a_non_positive_duration_or_capacity() -> None:
    with pytest.raises(ValueError, match="positive time"):
        service("point-ecoute", 0)
    with pytest.raises(ValueError, match="at least one participant"):
        collective_session(capacity=0)


def test_slot_refuses_naive_or_reversed_times() -> None:
    with pytest.raises(ValueError, match="must carry a UTC offset"):
        Slot(datetime(2026, 11, 25, 9, 0), paris(2026, 11, 25, 10, 0), "point-ecoute", "psy", "ccas", 1)
    with pytest.raises(ValueError, match="ends before it starts"):
        Slot(paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 9, 0), "point-ecoute", "psy", "ccas", 1)


def test_overseas_builder_and_paris_builder_agree_on_instants() -> None:
    # Guards the builders themselves: 12:00 in La Réunion is 09:00 in Paris in winter.
    assert local("Indian/Reunion", 2026, 11, 25, 12, 0) == paris(2026, 11, 25, 9, 0)
