"""ical.js (Thunderbird's parser, run with Node.js) reads every kind of feed exactly as vobject does.

The unit tests (tests/unit/test_feed_ical.py) check the feeds through vobject alone, in Python;
this cross-check against a second, independent parser needs the npm tools of tests/js.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.feeds.ical import build_feed, group_collective
from tests.support.feed_events import (
    NOTE,
    appointment,
    feed_spec,
    parents_group,
    special_characters_feed_events,
    special_characters_notes,
)
from tests.support.ical import FIELDS, read_calendar_with_vobject, read_with_icaljs

PARIS = ZoneInfo("Europe/Paris")


def paris_spring_gap_week() -> bytes:
    return build_feed(feed_spec(), [
        appointment("1", start=datetime(2026, 3, 27, 9, 0, tzinfo=PARIS)),
        appointment("2", start=datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),  # across the missing hour
        appointment("3", start=datetime(2026, 3, 31, 9, 0, tzinfo=PARIS)),
    ])


def paris_autumn_fold_week() -> bytes:
    return build_feed(feed_spec(), [
        appointment("1", start=datetime(2026, 10, 23, 14, 0, tzinfo=PARIS)),
        appointment("2", start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # in the repeated hour
        appointment("3", start=datetime(2026, 10, 25, 14, 0, tzinfo=PARIS)),
    ])


def overseas_zones() -> bytes:
    return build_feed(feed_spec(), [
        appointment("1", start=datetime(2026, 6, 10, 5, 0, tzinfo=UTC), zone="Indian/Reunion"),
        appointment("2", start=datetime(2026, 6, 10, 12, 0, tzinfo=UTC), zone="America/Cayenne"),
        appointment("3", start=datetime(2026, 6, 9, 22, 0, tzinfo=UTC), zone="Pacific/Noumea"),
        appointment("4"),
    ])


def summers_of_three_years() -> bytes:
    return build_feed(feed_spec(), [
        appointment("1", start=datetime(2026, 7, 1, 9, 0, tzinfo=PARIS)),
        appointment("2", start=datetime(2028, 7, 5, 9, 0, tzinfo=PARIS)),
        appointment("3", start=datetime(2028, 12, 31, 23, 30, tzinfo=PARIS)),
    ])


def full_level_with_cancellation() -> bytes:
    return build_feed(feed_spec("full"), [
        appointment("1", interpreter_language="arabe", note=NOTE),
        appointment("2", start=datetime(2026, 4, 1, 7, 0, tzinfo=UTC), status="cancelled", sequence=2),
        appointment("3", start=datetime(2026, 4, 2, 7, 0, tzinfo=UTC), site_kind="home",
                    site_address="12 rue des Lilas 59000 Lille"),
    ])


def busy_level() -> bytes:
    return build_feed(feed_spec("busy"), [appointment(interpreter_language="arabe", note=NOTE)])


def collective_sessions() -> bytes:
    bookings = [parents_group("30", interpreter_language="tamoul"), parents_group("7"),
                parents_group("12", status="cancelled")]
    return build_feed(feed_spec("full"), [*group_collective(bookings), appointment("99")])


def special_characters_and_long_lines() -> bytes:
    return build_feed(feed_spec("full"), special_characters_feed_events(special_characters_notes()))


def empty_feed() -> bytes:
    return build_feed(feed_spec(), [])


FEEDS: list[Callable[[], bytes]] = [
    paris_spring_gap_week,
    paris_autumn_fold_week,
    overseas_zones,
    summers_of_three_years,
    full_level_with_cancellation,
    busy_level,
    collective_sessions,
    special_characters_and_long_lines,
    empty_feed,
]


@pytest.mark.parametrize("feed", FEEDS, ids=[feed.__name__ for feed in FEEDS])
def test_icaljs_reads_the_feed_as_vobject_does(feed: Callable[[], bytes]) -> None:
    body = feed()

    by_icaljs = read_with_icaljs(body)
    by_vobject = read_calendar_with_vobject(body)

    assert by_icaljs | {"events": [{key: event[key] for key in FIELDS} for event in by_icaljs["events"]]} \
        == by_vobject
    assert (by_icaljs["uid"], by_icaljs["name"]) == ("feed-7@creneau", "Mme Durand — Point Écoute")


def test_icaljs_places_zoned_times_in_the_feeds_own_time_zones() -> None:
    by_icaljs = read_with_icaljs(overseas_zones())

    assert by_icaljs["timezones"] == ["America/Cayenne", "Europe/Paris", "Indian/Reunion", "Pacific/Noumea"]
    assert [(event["tzid"], event["start"]) for event in by_icaljs["events"]] == [
        ("Europe/Paris", "2026-03-31T07:00:00Z"),
        ("Pacific/Noumea", "2026-06-09T22:00:00Z"),
        ("Indian/Reunion", "2026-06-10T05:00:00Z"),
        ("America/Cayenne", "2026-06-10T12:00:00Z"),
    ]
