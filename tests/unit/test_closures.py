"""A closed site (a strike, an election) is like a holiday of that site only, in the slot engine."""

from __future__ import annotations

from datetime import date

from scheduler.domain.calendars import ClosedDays
from scheduler.domain.intervals import Interval
from scheduler.domain.rules import occurrences
from scheduler.domain.slots import free_slots
from tests.builders import WEDNESDAY, local_days, one_hour_service, paris, weekly_rule

STRIKE_DAY = date(2026, 11, 25)  # a Wednesday


def slots_on_strike_day(closures: dict[str, list[Interval]]) -> list[tuple[str, str]]:
    rules = [
        weekly_rule(resource="as-1", weekday=WEDNESDAY, start="09:00", end="11:00", site="ecole-jaures"),
        weekly_rule(resource="as-1", weekday=WEDNESDAY, start="14:00", end="16:00", site="ccas"),
        weekly_rule(resource="psy", weekday=WEDNESDAY, start="09:00", end="11:00", site="ccas"),
    ]
    openings = occurrences(rules, STRIKE_DAY, STRIKE_DAY, ClosedDays())
    slots = free_slots(openings, [], {}, one_hour_service(), local_days(STRIKE_DAY, STRIKE_DAY),
                       paris(2026, 11, 20), closures=closures)
    return [(slot.start.strftime("%H:%M"), f"{slot.resource_id}@{slot.site_id}") for slot in slots]


def test_a_school_closed_all_day_offers_nothing_there_but_its_staff_stay_bookable_elsewhere() -> None:
    strike = {"ecole-jaures": [Interval(paris(2026, 11, 25), paris(2026, 11, 26))]}
    assert slots_on_strike_day(strike) == [
        ("09:00", "psy@ccas"), ("10:00", "psy@ccas"), ("14:00", "as-1@ccas"), ("15:00", "as-1@ccas")]


def test_a_closure_of_part_of_a_morning_drops_only_the_slots_it_touches() -> None:
    closed = {"ccas": [Interval(paris(2026, 11, 25, 9, 30), paris(2026, 11, 25, 10, 0))]}
    assert slots_on_strike_day(closed) == [
        ("09:00", "as-1@ecole-jaures"), ("10:00", "as-1@ecole-jaures"), ("10:00", "psy@ccas"),
        ("14:00", "as-1@ccas"), ("15:00", "as-1@ccas")]


def test_no_closure_changes_nothing() -> None:
    assert len(slots_on_strike_day({})) == 6
