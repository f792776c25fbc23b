"""Which days a series search reads: one range per session, merged where they meet."""

from __future__ import annotations

from datetime import date

from scheduler.domain.pathways import Spacing
from scheduler.services.pathway_slots import PathwayQuery


def _ranges(spacing: Spacing, first: date, last: date) -> list[tuple[str, str]]:
    query = PathwayQuery("entretien-psy", date(2026, 12, 2), date(2027, 3, 3), spacing, staff_id="psy")
    return [(q.first.isoformat(), q.last.isoformat()) for q in query.slot_queries(first, last)]


def test_weekly_sessions_read_one_day_a_week_per_first_day() -> None:
    assert _ranges(Spacing(3, 7), date(2026, 12, 2), date(2026, 12, 2)) == [
        ("2026-12-02", "2026-12-02"), ("2026-12-09", "2026-12-09"), ("2026-12-16", "2026-12-16")]


def test_a_tolerance_widens_each_later_session_by_its_own_share() -> None:
    assert _ranges(Spacing(3, 7, tolerance_days=1), date(2026, 12, 2), date(2026, 12, 3)) == [
        ("2026-12-02", "2026-12-03"), ("2026-12-08", "2026-12-11"), ("2026-12-14", "2026-12-19")]


def test_ranges_that_meet_are_read_once() -> None:
    assert _ranges(Spacing(3, 2, tolerance_days=1), date(2026, 12, 2), date(2026, 12, 2)) == [
        ("2026-12-02", "2026-12-08")]
    assert _ranges(Spacing(2, 7), date(2026, 12, 2), date(2026, 12, 31)) == [("2026-12-02", "2027-01-07")]
