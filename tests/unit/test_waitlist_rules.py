"""The waiting list's offer rules on a test clock: RDV-Solidarités' limits for an earlier time
(appointment more than 7 days away, one offer a day, three in all), the offer hours and quiet
hours in the site's zone, which free time fits an entry, and when an offer lapses."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain.waitlist import (
    FreeTime,
    Window,
    Wish,
    entry_may_get_offer,
    first_fitting,
    fits,
    marked,
    may_offer_now,
    offer_expiry,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # Wednesday 10:30 in Paris
HOURS = Window(time(9), time(19))
QUIET = Window(time(20), time(8))


def _earlier(appointment_in: timedelta, sent: int = 0, last: datetime | None = None) -> Wish:
    return Wish("svc", None, None, None, None, NOW + appointment_in, sent, last)


def _free(start: datetime, staff: str = "staff", site: str = "site") -> FreeTime:
    return FreeTime("svc", staff, site, start, start + timedelta(hours=1))


def test_an_earlier_time_is_offered_only_while_the_appointment_is_more_than_seven_days_away() -> None:
    assert entry_may_get_offer(_earlier(timedelta(days=7, minutes=1)), NOW, PARIS)
    assert not entry_may_get_offer(_earlier(timedelta(days=7)), NOW, PARIS)
    assert not entry_may_get_offer(_earlier(timedelta(days=2)), NOW, PARIS)


def test_three_offers_in_all_for_an_earlier_time() -> None:
    far = timedelta(days=30)
    last_week = NOW - timedelta(days=7)
    assert entry_may_get_offer(_earlier(far, 2, last_week), NOW, PARIS)
    assert not entry_may_get_offer(_earlier(far, 3, last_week), NOW, PARIS)


def test_one_offer_a_day_counted_in_the_sites_zone() -> None:
    far = timedelta(days=30)
    # 00:30 in Paris on Wednesday is still Tuesday in UTC: the same local day as NOW.
    just_after_midnight = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    assert not entry_may_get_offer(_earlier(far, 1, just_after_midnight), NOW, PARIS)
    yesterday_evening = datetime(2026, 3, 3, 22, 30, tzinfo=UTC)  # 23:30 Tuesday in Paris
    assert entry_may_get_offer(_earlier(far, 1, yesterday_evening), NOW, PARIS)


def test_a_plain_entry_has_no_daily_or_total_limit() -> None:
    plain = Wish("svc", None, None, None, None, None, 7, NOW - timedelta(minutes=5))
    assert entry_may_get_offer(plain, NOW, PARIS)


def test_offers_go_out_within_the_offer_hours_in_the_sites_zone_never_in_quiet_hours() -> None:
    pairs = ((7, 59), (8, 0), (17, 59), (18, 0))
    at = [datetime(2026, 3, 4, hour, minute, tzinfo=UTC) for hour, minute in pairs]
    # 08:59, 09:00, 18:59, 19:00 in Paris (UTC+1 in March).
    assert [may_offer_now(moment, PARIS, HOURS, QUIET) for moment in at] == [False, True, True, False]
    reunion = ZoneInfo("Indian/Reunion")  # UTC+4: 09:30 UTC is 13:30 there
    assert may_offer_now(NOW, reunion, HOURS, QUIET)
    # No offer hours set: any time but quiet hours (19:30, then 20:00 and 23:00 in Paris).
    assert may_offer_now(datetime(2026, 3, 4, 18, 30, tzinfo=UTC), PARIS, None, QUIET)
    assert not may_offer_now(datetime(2026, 3, 4, 19, 0, tzinfo=UTC), PARIS, None, QUIET)
    assert not may_offer_now(datetime(2026, 3, 4, 22, 0, tzinfo=UTC), PARIS, None, QUIET)


def test_what_fits_an_entry() -> None:
    start = NOW + timedelta(days=3)
    wish = Wish("svc", "site", "staff", start - timedelta(hours=1), start + timedelta(hours=2), None, 0, None)
    assert fits(wish, _free(start))
    assert not fits(wish, _free(start, staff="other"))
    assert not fits(wish, _free(start, site="other"))
    assert not fits(wish, _free(start + timedelta(hours=2)))  # ends after ``latest``
    assert not fits(wish, _free(start - timedelta(hours=2)))  # before ``earliest``
    earlier = _earlier(timedelta(days=10))
    assert fits(earlier, _free(NOW + timedelta(days=9)))
    assert not fits(earlier, _free(NOW + timedelta(days=10)))


def test_the_first_fitting_time_skips_those_offered_as_often_as_allowed() -> None:
    first, second = NOW + timedelta(days=1), NOW + timedelta(days=2)
    wish = Wish("svc", None, None, None, None, None, 0, None)
    free = [_free(second), _free(first)]
    assert first_fitting(wish, free, set()) == _free(first)
    assert first_fitting(wish, free, {("staff", first)}) == _free(second)
    assert first_fitting(wish, free, {("staff", first), ("staff", second)}) is None


@given(st.integers(min_value=1, max_value=7 * 24 * 60), st.integers(min_value=0, max_value=30 * 24 * 60))
def test_an_offer_lapses_after_its_minutes_never_after_the_time_it_offers(minutes: int, later: int) -> None:
    start = NOW + timedelta(minutes=later)
    expiry = offer_expiry(NOW, start, minutes)
    assert expiry <= start and expiry <= NOW + timedelta(minutes=minutes)
    assert expiry in (start, NOW + timedelta(minutes=minutes))


def test_three_ignored_offers_mark_the_entry() -> None:
    assert [marked(count) for count in (0, 2, 3, 4)] == [False, False, True, True]


def test_offer_hours_parse() -> None:
    assert Window.parse("09:00-19:00") == HOURS
    assert Window.parse("") is None
