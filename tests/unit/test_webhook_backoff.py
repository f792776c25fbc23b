"""The retry schedule of a failed delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.webhooks.backoff import failing_too_long, next_attempt_at

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_retries_follow_the_contracts_schedule_then_stop() -> None:
    delays = [next_attempt_at(made, NOW) for made in range(1, 9)]
    assert [None if at is None else (at - NOW) for at in delays] == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=10), None]


def test_a_scale_shortens_every_delay() -> None:
    assert next_attempt_at(2, NOW, scale=0.001) == NOW + timedelta(seconds=0.3)


def test_five_days_of_failures_disable() -> None:
    assert not failing_too_long(NOW - timedelta(days=4, hours=23), NOW)
    assert failing_too_long(NOW - timedelta(days=5), NOW)
