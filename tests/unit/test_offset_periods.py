"""A zone's local days as stretches of constant UTC offset, across the changes of time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheduler.domain.offset_periods import OffsetPeriod, offset_periods


def _shape(periods: list[OffsetPeriod]) -> list[tuple[str, str, int]]:
    return [(p.starts.isoformat(), p.ends.isoformat(), p.offset_minutes) for p in periods]


def test_paris_spring_gap_splits_march_at_one_utc() -> None:
    assert _shape(offset_periods("Europe/Paris", date(2026, 3, 1), date(2026, 4, 30))) == [
        ("2026-02-28T23:00:00+00:00", "2026-03-29T01:00:00+00:00", 60),
        ("2026-03-29T01:00:00+00:00", "2026-04-30T22:00:00+00:00", 120),
    ]


def test_paris_autumn_fold_and_a_whole_year() -> None:
    assert _shape(offset_periods("Europe/Paris", date(2026, 1, 1), date(2026, 12, 31))) == [
        ("2025-12-31T23:00:00+00:00", "2026-03-29T01:00:00+00:00", 60),
        ("2026-03-29T01:00:00+00:00", "2026-10-25T01:00:00+00:00", 120),
        ("2026-10-25T01:00:00+00:00", "2026-12-31T23:00:00+00:00", 60),
    ]


def test_reunion_has_one_offset() -> None:
    assert _shape(offset_periods("Indian/Reunion", date(2026, 1, 1), date(2026, 12, 31))) == [
        ("2025-12-31T20:00:00+00:00", "2026-12-31T20:00:00+00:00", 240),
    ]


def test_one_day_on_the_day_of_the_change() -> None:
    assert _shape(offset_periods("Europe/Paris", date(2026, 3, 29), date(2026, 3, 29))) == [
        ("2026-03-28T23:00:00+00:00", "2026-03-29T01:00:00+00:00", 60),
        ("2026-03-29T01:00:00+00:00", "2026-03-29T22:00:00+00:00", 120),
    ]


def test_an_empty_or_naive_period_is_refused() -> None:
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        OffsetPeriod("Europe/Paris", instant, instant, 60)
    with pytest.raises(ValueError):
        OffsetPeriod("Europe/Paris", datetime(2026, 1, 1), datetime(2026, 1, 2), 60)
