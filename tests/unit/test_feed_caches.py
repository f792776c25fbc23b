"""The feed endpoint's caches: rendered events reused only for equal rows, bodies bounded in
bytes. (Token look-ups and marks, checked against the database's change counters, are tested on
real databases in tests/api/test_shared_caches.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel.sql.sqltypes import UTCDateTime

from scheduler.db import feeds as store
from scheduler.db.dialect import as_utc
from scheduler.feeds.ical import FeedSpec, Privacy, assemble_feed, build_feed
from scheduler.services import feeds as service
from scheduler.services.feeds import FeedBodies, render_events

START = datetime(2026, 3, 31, 7, 0, tzinfo=UTC)


def spec(privacy: Privacy = "full") -> FeedSpec:
    return FeedSpec("feed-1@creneau.fr", "Mme Durand — créneau", "steelblue", privacy,
                    "https://creneau.example/feeds/tok.ics", "creneau.fr")


def row(appointment_id: str, hours: int = 0, **overrides: Any) -> Any:
    """An event row as the store reads it on SQLite: times as stored UTC text."""
    start = START + timedelta(hours=hours)
    fields: dict[str, Any] = {
        "id": appointment_id,
        "status": "booked",
        "starts_at": _stored(start),
        "ends_at": _stored(start + timedelta(hours=1)),
        "sequence": 0,
        "updated_at": _stored(START - timedelta(days=1)),
        "note": "Venir avec le carnet de santé",
        "interpreter_language": None,
        "staff_hold_id": f"hold-{appointment_id}",
        "site_id": "site-1",
        "reference": f"PRE-{appointment_id}",
        "service_name": "Entretien psychologue",
        "capacity": 1,
        "site_name": "CCAS Centre",
        "kind": "office",
        "address": "1 place de la Mairie",
        "timezone": "Europe/Paris",
    }
    return store.EventRow(**(fields | overrides))


def _stored(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def body(privacy: Privacy, rows: list[Any], previous: service.Renders | None = None) -> bytes:
    renders = render_events(spec(privacy), rows, previous or {})
    return assemble_feed(spec(privacy), [rendered for _, rendered in renders.values()])


# --- rendered events -------------------------------------------------------------------------


def test_a_rebuild_renders_again_only_the_changed_row() -> None:
    rows = [row("1"), row("2", hours=2), row("3", hours=4)]
    first = render_events(spec(), rows, {})
    changed = [rows[0], rows[1]._replace(sequence=1, status="cancelled"), rows[2]]

    second = render_events(spec(), changed, first)

    assert second["1"] is first["1"] and second["3"] is first["3"]
    assert second["2"] is not first["2"]
    assert b"STATUS:CANCELLED" in second["2"][1].vevent


def test_a_rebuild_from_kept_renderings_equals_a_fresh_build() -> None:
    rows = [row(str(n), hours=2 * n) for n in range(6)]
    kept = render_events(spec(), rows, {})
    changed = [*rows[:2], rows[2]._replace(site_name="CCAS Sud", updated_at=_stored(START)), *rows[4:],
               row("9", hours=20, reference="PRE-NEW")]

    assert body("full", changed, kept) == body("full", changed)


def test_a_change_outside_the_appointment_row_is_seen() -> None:
    """A family reference or a site's address changes no appointment column, but the row differs."""
    rows = [row("1")]
    kept = render_events(spec(), rows, {})

    renamed = render_events(spec(), [rows[0]._replace(reference="PRE-RENAMED", address="2 rue Neuve")], kept)

    assert b"PRE-RENAMED" in renamed["1"][1].vevent and b"2 rue Neuve" in renamed["1"][1].vevent


@pytest.mark.parametrize("privacy", ["standard", "busy"])
def test_renderings_of_another_privacy_level_are_never_reused(privacy: Privacy) -> None:
    rows = [row("1"), row("2", hours=2)]
    full = render_events(spec("full"), rows, {})

    assert body(privacy, rows, full) == body(privacy, rows)
    assert b"Note interne" not in body(privacy, rows, full)


def test_a_collective_session_is_rendered_once_and_reused_while_unchanged() -> None:
    group = [row(str(n), capacity=8, staff_hold_id="hold-group", reference=f"PRE-{n}") for n in range(3)]
    first = render_events(spec(), group, {})
    assert list(first) == ["session-hold-group-site-1"]

    assert (
        render_events(spec(), group, first)["session-hold-group-site-1"] is first["session-hold-group-site-1"]
    )
    joined = render_events(spec(), [*group, row("7", capacity=8, staff_hold_id="hold-group")], first)
    assert b"(4 participants)" in joined["session-hold-group-site-1"][1].vevent


def test_a_release_renders_the_interpreters_event_again_as_cancelled() -> None:
    """A released booking comes as a row of the appointment's id: it never reuses the booked rendering."""
    rows = [row("1"), row("2", hours=2)]
    kept = render_events(spec("standard"), rows, {})
    released = rows[1]._replace(status="cancelled", sequence=1, updated_at=_stored(START), note=None)

    again = render_events(spec("standard"), [rows[0], released], kept)

    assert again["1"] is kept["1"] and again["2"] is not kept["2"]
    assert b"STATUS:CANCELLED" in again["2"][1].vevent and b"SEQUENCE:1" in again["2"][1].vevent
    assert body("standard", [rows[0], released], kept) == body("standard", [rows[0], released])


def test_released_event_rows_name_the_same_columns_as_appointment_rows() -> None:
    assert store.EventRow._fields == tuple(column.name for column in store.RELEASED_EVENT_COLUMNS)


def test_the_store_reads_stored_times_exactly_as_utc_datetime_does() -> None:
    processed = UTCDateTime().process_result_value
    paris = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    for stored in (datetime(2026, 3, 29, 1, 30, 15, 250), paris):
        assert as_utc(stored) == processed(stored, None)  # type: ignore[arg-type]
        assert as_utc(stored).tzinfo is UTC
    assert as_utc("2026-03-29 01:30:15.000250") == datetime(2026, 3, 29, 1, 30, 15, 250, tzinfo=UTC)


def test_event_rows_name_the_columns_of_the_statement_in_order() -> None:
    assert store.EventRow._fields == tuple(column.name for column in store.EVENT_COLUMNS)


def test_build_feed_is_the_composition_of_render_and_assemble() -> None:
    rows = [row("2", hours=2), row("1")]
    events = [service._event(r) for r in rows]

    assert build_feed(spec(), events) == body("full", rows)


# --- bodies ----------------------------------------------------------------------------------


def test_bodies_keep_one_version_per_feed_with_its_renderings() -> None:
    bodies = FeedBodies()
    renders = render_events(spec(), [row("1")], {})
    bodies.put("feed-1", '"v1"', b"body-1", renders)

    assert bodies.get("feed-1", '"v1"') == b"body-1"
    assert bodies.get("feed-1", '"v2"') is None
    assert bodies.renders("feed-1") is renders
    assert bodies.renders("feed-2") == {}


def test_bodies_evict_the_least_recently_used_feed_past_the_budget() -> None:
    weight = 100 * (1 + service.RENDERS_PER_BODY_BYTE)
    bodies = FeedBodies(max_bytes=2 * weight)
    bodies.put("a", "1", b"a" * 100)
    bodies.put("b", "1", b"b" * 100)
    bodies.get("a", "1")
    bodies.put("c", "1", b"c" * 100)

    assert bodies.get("b", "1") is None
    assert bodies.get("a", "1") == b"a" * 100 and bodies.get("c", "1") == b"c" * 100
    assert bodies.renders("b") == {}
