"""Reminder planning, quiet hours and consent: pure functions on a pinned clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.policy import (
    DEFAULT_REMINDER_OFFSETS_MINUTES,
    QuietHours,
    may_text,
    next_allowed_send,
    plan_reminders,
)

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
CAYENNE = ZoneInfo("America/Cayenne")
EVENINGS_AND_NIGHTS = QuietHours(time(20, 0), time(8, 0))
# "Now" is well before every appointment below unless a test says otherwise.
LONG_BEFORE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def plan(
    start: str,
    zone: ZoneInfo = PARIS,
    offsets: Sequence[int] | None = None,
    quiet: QuietHours | None = None,
    now: datetime = LONG_BEFORE,
) -> list[tuple[str, str]]:
    """Plan, and show each reminder as (kind, local ISO time) for literal comparison."""
    reminders = plan_reminders(datetime.fromisoformat(start), zone, offsets, quiet, now)
    assert all(r.due_at.tzinfo is UTC for r in reminders)
    return [(r.kind, r.due_at.astimezone(zone).isoformat()) for r in reminders]


# --- QuietHours ---------------------------------------------------------------------------


def test_default_offsets_are_two_days() -> None:
    assert DEFAULT_REMINDER_OFFSETS_MINUTES == (2880,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20:00-08:00", QuietHours(time(20, 0), time(8, 0))),
        (" 12:30 - 14:00 ", QuietHours(time(12, 30), time(14, 0))),
        ("7:05-9:00", QuietHours(time(7, 5), time(9, 0))),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_quiet_hours(text: str, expected: QuietHours | None) -> None:
    assert QuietHours.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20h-8h", "must look like '20:00-08:00', not '20h-8h'"),
        ("20:00", "must look like"),
        ("25:00-08:00", "quiet hours '25:00-08:00': hour must be in 0..23"),
        ("20:00-08:60", "minute must be in 0..59"),
        ("08:00-08:00", "start and end at the same time"),
    ],
)
def test_parse_rejects_malformed_quiet_hours(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QuietHours.parse(text)


def test_quiet_hours_are_wall_times_without_zone() -> None:
    with pytest.raises(ValueError, match="local wall times"):
        QuietHours(time(20, 0, tzinfo=UTC), time(8, 0))


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        ("19:59", False),
        ("20:00", True),
        ("23:59", True),
        ("00:00", True),
        ("07:59", True),
        ("08:00", False),
        ("12:00", False),
    ],
)
def test_quiet_window_spanning_midnight(wall: str, quiet: bool) -> None:
    local = datetime.fromisoformat(f"2026-11-25T{wall}").replace(tzinfo=PARIS)
    assert EVENINGS_AND_NIGHTS.contains(local) is quiet


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [("11:59", False), ("12:00", True), ("13:59", True), ("14:00", False), ("23:00", False)],
)
def test_quiet_window_within_a_day(wall: str, quiet: bool) -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))
    local = datetime.fromisoformat(f"2026-11-25T{wall}").replace(tzinfo=PARIS)
    assert lunch.contains(local) is quiet


# --- plan_reminders -------------------------------------------------------------------------


def test_afternoon_appointment_gets_two_days_and_morning_reminders() -> None:
    assert plan("2026-11-25T14:00:00+01:00", quiet=EVENINGS_AND_NIGHTS) == [
        ("reminder-2880", "2026-11-23T14:00:00+01:00"),
        ("reminder-morning", "2026-11-25T08:30:00+01:00"),
    ]


def test_noon_appointment_counts_as_afternoon() -> None:
    assert plan("2026-11-25T12:00:00+01:00") == [
        ("reminder-2880", "2026-11-23T12:00:00+01:00"),
        ("reminder-morning", "2026-11-25T08:30:00+01:00"),
    ]


def test_morning_appointment_gets_no_morning_reminder() -> None:
    assert plan("2026-11-25T11:59:00+01:00") == [("reminder-2880", "2026-11-23T11:59:00+01:00")]


def test_explicit_offsets_replace_the_default_policy() -> None:
    assert plan("2026-11-25T14:00:00+01:00", offsets=[1440, 90]) == [
        ("reminder-1440", "2026-11-24T14:00:00+01:00"),
        ("reminder-90", "2026-11-25T12:30:00+01:00"),
    ]


def test_no_offsets_means_no_reminder() -> None:
    assert plan("2026-11-25T14:00:00+01:00", offsets=[]) == []


def test_start_given_in_another_offset_is_read_in_the_site_zone() -> None:
    assert plan("2026-11-25T13:00:00+00:00") == [
        ("reminder-2880", "2026-11-23T14:00:00+01:00"),
        ("reminder-morning", "2026-11-25T08:30:00+01:00"),
    ]


def test_reminder_skips_quiet_hours_by_moving_earlier_the_same_evening() -> None:
    assert plan("2026-11-25T20:30:00+01:00", quiet=EVENINGS_AND_NIGHTS) == [
        ("reminder-2880", "2026-11-23T19:45:00+01:00"),
        ("reminder-morning", "2026-11-25T08:30:00+01:00"),
    ]


def test_reminder_after_midnight_moves_to_the_evening_before() -> None:
    assert plan("2026-11-25T07:00:00+01:00", quiet=EVENINGS_AND_NIGHTS) == [
        ("reminder-2880", "2026-11-22T19:45:00+01:00"),
    ]


def test_reminder_in_a_daytime_quiet_window_moves_before_it() -> None:
    lunch = QuietHours(time(12, 0), time(14, 0))
    assert plan("2026-11-25T13:00:00+01:00", offsets=[2880], quiet=lunch) == [
        ("reminder-2880", "2026-11-23T11:45:00+01:00"),
    ]


def test_reminders_moved_to_the_same_instant_are_collapsed() -> None:
    # 21:00 and 20:40 two days before both move to 19:45: one text, not two.
    assert plan("2026-11-25T21:00:00+01:00", offsets=[2880, 2900], quiet=EVENINGS_AND_NIGHTS) == [
        ("reminder-2880", "2026-11-23T19:45:00+01:00"),
    ]


def test_reminders_already_past_are_dropped() -> None:
    now = datetime.fromisoformat("2026-11-24T10:00:00+01:00")
    assert plan("2026-11-25T14:00:00+01:00", now=now) == [("reminder-morning", "2026-11-25T08:30:00+01:00")]


def test_reminder_due_exactly_now_is_kept() -> None:
    now = datetime.fromisoformat("2026-11-23T14:00:00+01:00")
    assert plan("2026-11-25T14:00:00+01:00", offsets=[2880], now=now) == [
        ("reminder-2880", "2026-11-23T14:00:00+01:00"),
    ]


def test_reminder_moved_out_of_quiet_hours_into_the_past_is_dropped() -> None:
    # Booked at 21:00 for 21:30 two days later: the 2-day reminder would move to 19:45 today.
    now = datetime.fromisoformat("2026-11-23T21:00:00+01:00")
    assert plan("2026-11-25T21:30:00+01:00", offsets=[2880], quiet=EVENINGS_AND_NIGHTS, now=now) == []


def test_appointment_already_started_gets_no_reminder() -> None:
    now = datetime.fromisoformat("2026-11-25T14:30:00+01:00")
    assert plan("2026-11-25T14:00:00+01:00", now=now) == []


def test_offsets_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive number of minutes, not 0"):
        plan("2026-11-25T14:00:00+01:00", offsets=[0])


@pytest.mark.parametrize("naive", ["start", "now"])
def test_naive_datetimes_are_refused(naive: str) -> None:
    start = datetime(2026, 11, 25, 14, 0, tzinfo=PARIS)
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    values = {"start": start, "now": now, naive: datetime(2026, 11, 1, 9, 0)}
    with pytest.raises(ValueError, match=f"{naive} must carry a UTC offset"):
        plan_reminders(values["start"], PARIS, None, None, values["now"])


@pytest.mark.parametrize(
    ("start", "zone", "offsets", "expected"),
    [
        pytest.param(
            # Clocks go 02:00 -> 03:00 on 2026-03-29: 02:30 that night does not exist,
            # so "two days before 02:30" is pushed forward by the gap.
            "2026-03-31T02:30:00+02:00",
            PARIS,
            [2880],
            [("reminder-2880", "2026-03-29T03:30:00+02:00")],
            id="paris_spring_gap",
        ),
        pytest.param(
            # Across the spring change, two days before 10:00 is still 10:00 (not 09:00).
            "2026-03-30T10:00:00+02:00",
            PARIS,
            [2880],
            [("reminder-2880", "2026-03-28T10:00:00+01:00")],
            id="paris_spring_crossing",
        ),
        pytest.param(
            # The morning reminder on the day of the change itself, in summer time.
            "2026-03-29T14:00:00+02:00",
            PARIS,
            None,
            [
                ("reminder-2880", "2026-03-27T14:00:00+01:00"),
                ("reminder-morning", "2026-03-29T08:30:00+02:00"),
            ],
            id="paris_spring_morning_of_change",
        ),
        pytest.param(
            # Clocks go 03:00 -> 02:00 on 2026-10-25: 02:30 happens twice; the first is taken.
            "2026-10-27T02:30:00+01:00",
            PARIS,
            [2880],
            [("reminder-2880", "2026-10-25T02:30:00+02:00")],
            id="paris_autumn_fold",
        ),
        pytest.param(
            "2026-10-26T10:00:00+01:00",
            PARIS,
            [2880],
            [("reminder-2880", "2026-10-24T10:00:00+02:00")],
            id="paris_autumn_crossing",
        ),
        pytest.param(
            # Offsets that are not whole days are elapsed time: 12 h before 14:00 on the day
            # of the change is the second 02:00 (winter time), not the first.
            "2026-10-25T14:00:00+01:00",
            PARIS,
            [720],
            [("reminder-720", "2026-10-25T02:00:00+01:00")],
            id="paris_autumn_elapsed_offset",
        ),
        pytest.param(
            "2026-11-25T14:00:00+04:00",
            REUNION,
            None,
            [
                ("reminder-2880", "2026-11-23T14:00:00+04:00"),
                ("reminder-morning", "2026-11-25T08:30:00+04:00"),
            ],
            id="reunion",
        ),
        pytest.param(
            # French Guiana has no DST: the Paris change on 2026-03-29 does not move it.
            "2026-03-30T14:00:00-03:00",
            CAYENNE,
            None,
            [
                ("reminder-2880", "2026-03-28T14:00:00-03:00"),
                ("reminder-morning", "2026-03-30T08:30:00-03:00"),
            ],
            id="cayenne",
        ),
    ],
)
def test_dst_change(
    start: str, zone: ZoneInfo, offsets: list[int] | None, expected: list[tuple[str, str]]
) -> None:
    assert plan(start, zone, offsets) == expected


def test_quiet_hours_read_in_the_overseas_zone() -> None:
    # 20:30 in Réunion is 17:30 in Paris: quiet there, so moved to 19:45 Réunion time.
    assert plan("2026-11-25T20:30:00+04:00", REUNION, [2880], EVENINGS_AND_NIGHTS) == [
        ("reminder-2880", "2026-11-23T19:45:00+04:00"),
    ]


# --- next_allowed_send ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param("2026-11-25T14:00:00+01:00", "2026-11-25T13:00:00+00:00", id="daytime-now"),
        pytest.param("2026-11-25T19:59:00+01:00", "2026-11-25T18:59:00+00:00", id="just-before-quiet"),
        pytest.param("2026-11-25T21:00:00+01:00", "2026-11-26T07:00:00+00:00", id="evening-next-morning"),
        pytest.param("2026-11-26T02:00:00+01:00", "2026-11-26T07:00:00+00:00", id="night-same-morning"),
        pytest.param("2026-11-26T08:00:00+01:00", "2026-11-26T07:00:00+00:00", id="quiet-ends-at-eight"),
    ],
)
def test_next_allowed_send(at: str, expected: str) -> None:
    sent = next_allowed_send(datetime.fromisoformat(at), PARIS, EVENINGS_AND_NIGHTS)
    assert sent.isoformat() == expected


def test_next_allowed_send_without_quiet_hours_is_now() -> None:
    at = datetime.fromisoformat("2026-11-25T23:00:00+01:00")
    assert next_allowed_send(at, PARIS, None).isoformat() == "2026-11-25T22:00:00+00:00"


def test_next_allowed_send_in_a_daytime_window() -> None:
    at = datetime.fromisoformat("2026-11-25T12:30:00+01:00")
    lunch = QuietHours(time(12, 0), time(14, 0))
    assert next_allowed_send(at, PARIS, lunch).astimezone(PARIS).isoformat() == "2026-11-25T14:00:00+01:00"


def test_next_allowed_send_when_quiet_hours_end_in_the_spring_gap() -> None:
    at = datetime.fromisoformat("2026-03-28T23:00:00+01:00")
    late_night = QuietHours(time(22, 0), time(2, 30))
    sent = next_allowed_send(at, PARIS, late_night)
    assert sent.astimezone(PARIS).isoformat() == "2026-03-29T03:30:00+02:00"


def test_next_allowed_send_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="at must carry a UTC offset"):
        next_allowed_send(datetime(2026, 11, 25, 21, 0), PARIS, EVENINGS_AND_NIGHTS)


# --- may_text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "consent", "expected"),
    [
        ("+33612345678", True, True),
        ("+33612345678", False, False),
        (None, True, False),
        ("", True, False),
        ("  ", True, False),
        (None, False, False),
    ],
)
def test_may_text_needs_consent_and_a_number(phone: str | None, consent: bool, expected: bool) -> None:
    assert may_text(phone, consent) is expected
