"""iCalendar feed builder, read back by vobject, a parser independent of the code that wrote it.

tests/contract/test_feed_ical_parsers.py checks that ical.js (Thunderbird's parser, on Node.js)
reads the same feeds exactly as vobject does.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject  # type: ignore[import-untyped]
from icalendar import Calendar

from scheduler.feeds.ical import FeedEvent, Privacy, build_feed, etag_for, group_collective, render_event
from tests.support.feed_events import (
    NOTE,
    appointment,
    feed_spec,
    parents_group,
    special_characters_feed_events,
    special_characters_notes,
)
from tests.support.ical import read_calendar_with_vobject, read_with_vobject, unfolded

PARIS = ZoneInfo("Europe/Paris")
# Independent of the builder's own pattern: a French number, national or international form.
FRENCH_PHONE = re.compile(r"(?:\+33|0033|\b0)\s*\(?0?\)?\s*[1-9](?:[\s.\-]*\d{2}){4}")


def test_paris_spring_gap_week() -> None:
    events = [
        appointment("1", start=datetime(2026, 3, 27, 9, 0, tzinfo=PARIS)),
        # 01:30 CET to 03:30 CEST: one hour across the missing 02:00-03:00.
        appointment("2", start=datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        appointment("3", start=datetime(2026, 3, 31, 9, 0, tzinfo=PARIS)),
    ]
    body = build_feed(feed_spec(), events)

    assert [(e["start"], e["end"]) for e in read_with_vobject(body)] == [
        ("2026-03-27T08:00:00Z", "2026-03-27T09:00:00Z"),
        ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
        ("2026-03-31T07:00:00Z", "2026-03-31T08:00:00Z"),
    ]
    text = unfolded(body)
    assert "DTSTART;TZID=Europe/Paris:20260329T013000\r\n" in text
    assert "DTEND;TZID=Europe/Paris:20260329T033000\r\n" in text
    assert "DTSTART;TZID=Europe/Paris:20260331T090000\r\n" in text


def test_paris_autumn_fold_week() -> None:
    events = [
        appointment("1", start=datetime(2026, 10, 23, 14, 0, tzinfo=PARIS)),
        # 02:30 CEST to 02:30 CET: the same wall-clock time twice, one hour apart.
        appointment("2", start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        appointment("3", start=datetime(2026, 10, 25, 14, 0, tzinfo=PARIS)),
        appointment("4", start=datetime(2026, 10, 27, 9, 0, tzinfo=PARIS)),
    ]
    body = build_feed(feed_spec(), events)

    assert [(e["start"], e["end"]) for e in read_with_vobject(body)] == [
        ("2026-10-23T12:00:00Z", "2026-10-23T13:00:00Z"),
        ("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"),
        ("2026-10-25T13:00:00Z", "2026-10-25T14:00:00Z"),
        ("2026-10-27T08:00:00Z", "2026-10-27T09:00:00Z"),
    ]
    text = unfolded(body)
    assert "DTSTART:20261025T003000Z\r\n" in text
    assert "DTEND:20261025T013000Z\r\n" in text
    assert "DTSTART;TZID=Europe/Paris:20261025T140000\r\n" in text


@pytest.mark.parametrize(
    ("zone", "local_nine", "expected_start"),
    [
        pytest.param(
            "Indian/Reunion", datetime(2026, 6, 10, 5, 0, tzinfo=UTC), "2026-06-10T05:00:00Z", id="reunion"
        ),
        pytest.param(
            "America/Cayenne", datetime(2026, 6, 10, 12, 0, tzinfo=UTC), "2026-06-10T12:00:00Z", id="cayenne"
        ),
        pytest.param(
            "Pacific/Noumea", datetime(2026, 6, 9, 22, 0, tzinfo=UTC), "2026-06-09T22:00:00Z", id="noumea"
        ),
    ],
)
def test_overseas_zone_has_its_vtimezone(zone: str, local_nine: datetime, expected_start: str) -> None:
    body = build_feed(feed_spec(), [appointment(start=local_nine, zone=zone)])

    [event] = read_with_vobject(body)
    assert event["start"] == expected_start
    assert f"DTSTART;TZID={zone}:20260610T090000\r\n" in body.decode()
    assert read_calendar_with_vobject(body)["timezones"] == [zone]


def test_one_vtimezone_per_zone_used() -> None:
    events = [
        appointment("1", zone="Indian/Reunion"),
        appointment("2", zone="Pacific/Noumea"),
        appointment("3", zone="Europe/Paris"),
        appointment("4", zone="Indian/Reunion", start=datetime(2026, 4, 1, 5, 0, tzinfo=UTC)),
    ]
    body = build_feed(feed_spec(), events)

    assert read_calendar_with_vobject(body)["timezones"] == [
        "Europe/Paris",
        "Indian/Reunion",
        "Pacific/Noumea",
    ]
    assert body.count(b"BEGIN:VTIMEZONE") == 3


def test_vtimezone_window_is_bounded_to_the_events_years() -> None:
    body = build_feed(feed_spec(), [appointment()])

    vtimezone = body[body.index(b"BEGIN:VTIMEZONE") : body.index(b"END:VTIMEZONE")]
    assert b"from 2026-01-01 to 2027-01-01" in vtimezone
    assert b"1970" not in body
    assert vtimezone.count(b"\r\n") < 25


def test_feed_spanning_years_keeps_each_summer_offset() -> None:
    events = [
        appointment("1", start=datetime(2026, 7, 1, 9, 0, tzinfo=PARIS)),
        appointment("2", start=datetime(2028, 7, 5, 9, 0, tzinfo=PARIS)),
        appointment("3", start=datetime(2028, 12, 31, 23, 30, tzinfo=PARIS)),
    ]
    body = build_feed(feed_spec(), events)

    assert [(e["start"], e["end"]) for e in read_with_vobject(body)] == [
        ("2026-07-01T07:00:00Z", "2026-07-01T08:00:00Z"),
        ("2028-07-05T07:00:00Z", "2028-07-05T08:00:00Z"),
        ("2028-12-31T22:30:00Z", "2028-12-31T23:30:00Z"),
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("booked", "CONFIRMED"),
        ("confirmed", "CONFIRMED"),
        ("attended", "CONFIRMED"),
        ("no_show", "CONFIRMED"),
        ("cancelled", "CANCELLED"),
    ],
)
def test_status_maps_to_icalendar_status(status: str, expected: str) -> None:
    [event] = read_with_vobject(build_feed(feed_spec(), [appointment(status=status)]))

    assert event["status"] == expected


@pytest.mark.parametrize(
    ("privacy", "summary"),
    [
        ("full", "(annulé) Entretien psychologue — PRE-2026-0042"),
        ("standard", "(annulé) Entretien psychologue — PRE-2026-0042"),
        ("busy", "(annulé) Occupé"),
    ],
)
def test_cancelled_event_is_marked_in_every_level(privacy: Privacy, summary: str) -> None:
    [event] = read_with_vobject(build_feed(feed_spec(privacy), [appointment(status="cancelled")]))

    assert (event["status"], event["summary"]) == ("CANCELLED", summary)


def test_full_level_shows_reference_interpreter_and_note() -> None:
    body = build_feed(feed_spec("full"), [appointment(interpreter_language="arabe", note=NOTE)])

    [event] = read_with_vobject(body)
    assert event["summary"] == "Entretien psychologue — PRE-2026-0042"
    assert event["location"] == "CCAS Centre, 1 place de la Mairie 59000 Lille"
    assert event["description"] == f"Interprète : arabe\nNote interne : {NOTE}"


def test_standard_level_hides_note_and_interpreter() -> None:
    body = build_feed(feed_spec("standard"), [appointment(interpreter_language="arabe", note=NOTE)])

    [event] = read_with_vobject(body)
    assert event["summary"] == "Entretien psychologue — PRE-2026-0042"
    assert event["location"] == "CCAS Centre, 1 place de la Mairie 59000 Lille"
    assert event["description"] is None
    assert "harcèlement" not in unfolded(body)
    assert "arabe" not in unfolded(body)


def test_busy_level_shows_only_busy_and_times() -> None:
    body = build_feed(feed_spec("busy"), [appointment(interpreter_language="arabe", note=NOTE)])

    [event] = read_with_vobject(body)
    assert (event["summary"], event["location"], event["description"]) == ("Occupé", None, None)
    assert (event["start"], event["end"]) == ("2026-03-31T07:00:00Z", "2026-03-31T08:00:00Z")
    for secret in ("PRE-2026-0042", "CCAS Centre", "Mairie", "Entretien", "harcèlement", "arabe"):
        assert secret not in unfolded(body)


@pytest.mark.parametrize("privacy", ["full", "standard", "busy"])
def test_no_level_shows_a_phone_number(privacy: Privacy) -> None:
    note = "Rappeler Mme B. au 06 12 34 56 78 ou au +33 7 98 76 54 32, sinon 0612345678."
    body = build_feed(feed_spec(privacy), [appointment(note=note, interpreter_language="tamoul")])

    text = unfolded(body).replace("\\", "")
    assert FRENCH_PHONE.search(text) is None, FRENCH_PHONE.search(text)
    if privacy == "full":
        [event] = read_with_vobject(body)
        assert event["description"].count("[numéro masqué]") == 3


@pytest.mark.parametrize(
    ("site_kind", "address", "expected"),
    [
        pytest.param("home", "12 rue des Lilas 59000 Lille", "visite à domicile", id="home_visit"),
        pytest.param("school", "rue Jules Ferry", "CCAS Centre, rue Jules Ferry", id="school"),
        pytest.param("online", None, "CCAS Centre", id="online_without_address"),
    ],
)
def test_location_by_site_kind(site_kind: str, address: str | None, expected: str) -> None:
    for privacy in ("full", "standard"):
        body = build_feed(feed_spec(privacy), [appointment(site_kind=site_kind, site_address=address)])

        [event] = read_with_vobject(body)
        assert event["location"] == expected
    assert "Lilas" not in unfolded(body)


def test_collective_session_is_one_event_with_its_participants() -> None:
    bookings = [parents_group("30"), parents_group("7"), parents_group("12", status="cancelled")]

    sessions = group_collective(bookings)
    body = build_feed(feed_spec("full"), [*sessions, appointment("99")])

    assert [(e["uid"], e["summary"], e["status"]) for e in read_with_vobject(body)] == [
        ("appt-99@creneau.local", "Entretien psychologue — PRE-2026-0042", "CONFIRMED"),
        ("appt-session-7@creneau.local", "Groupe de parole parents (2 participants)", "CONFIRMED"),
    ]
    assert [(s.appointment_id, s.participants) for s in sessions] == [("session-7", 2)]
    [_, standard] = read_with_vobject(build_feed(feed_spec("standard"), [*sessions, appointment("99")]))
    assert standard["summary"] == "Groupe de parole parents"


def test_collective_session_is_cancelled_only_when_every_booking_is() -> None:
    one_left = group_collective([parents_group("7", "cancelled"), parents_group("12")])
    none_left = group_collective([parents_group("7", "cancelled"), parents_group("12", "cancelled")])

    assert [(s.status, s.participants) for s in one_left] == [("booked", 1)]
    assert [(s.status, s.participants) for s in none_left] == [("cancelled", 0)]
    [event] = read_with_vobject(build_feed(feed_spec("full"), none_left))
    assert (event["status"], event["summary"]) == ("CANCELLED", "(annulé) Groupe de parole parents")


def test_collective_session_keeps_its_uid_and_bumps_sequence_when_a_family_joins() -> None:
    before = read_with_vobject(
        build_feed(feed_spec(), group_collective([parents_group("7"), parents_group("12")]))
    )
    after = read_with_vobject(
        build_feed(
            feed_spec(), group_collective([parents_group("7"), parents_group("12"), parents_group("31")])
        )
    )

    assert before[0]["uid"] == after[0]["uid"] == "appt-session-7@creneau.local"
    assert (before[0]["sequence"], after[0]["sequence"]) == (1, 2)


def test_collective_session_shows_no_single_family_and_merges_interpreters() -> None:
    bookings = [
        parents_group("7", interpreter_language="arabe"),
        parents_group("12", interpreter_language="tamoul"),
    ]

    [session] = group_collective(bookings)
    [event] = read_with_vobject(build_feed(feed_spec("full"), [session]))

    assert session.family_reference is None
    assert "PRE-2026-00" not in event["summary"]
    assert event["description"] == "Interprète : arabe, tamoul"


def test_same_inputs_give_identical_bytes_whatever_the_order() -> None:
    events = [
        appointment(str(i), start=datetime(2026, 3, 30, 7, 0, tzinfo=UTC) + timedelta(hours=i % 7))
        for i in range(40)
    ]

    first = build_feed(feed_spec("full"), events)

    assert build_feed(feed_spec("full"), events) == first
    assert build_feed(feed_spec("full"), list(reversed(events))) == first
    starts_then_uids = [(e["start"], e["uid"]) for e in read_with_vobject(first)]
    assert starts_then_uids == sorted(starts_then_uids)


def test_etag_changes_exactly_when_content_changes() -> None:
    events = [appointment("1"), appointment("2", start=datetime(2026, 4, 1, 7, 0, tzinfo=UTC))]
    etag = etag_for(build_feed(feed_spec(), events))
    moved = replace(
        events[1],
        start=events[1].start + timedelta(hours=1),
        end=events[1].end + timedelta(hours=1),
        sequence=1,
    )

    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)
    assert etag_for(build_feed(feed_spec(), [replace(e) for e in reversed(events)])) == etag
    assert etag_for(build_feed(feed_spec(), [events[0], moved])) != etag
    assert etag_for(build_feed(feed_spec(), [events[0], replace(events[1], status="cancelled")])) != etag
    assert etag_for(build_feed(feed_spec(), events[:1])) != etag
    assert etag_for(build_feed(feed_spec(name="Autre nom"), events)) != etag


def test_uids_and_sequences_are_stable_across_rebuilds() -> None:
    events = [appointment("1"), appointment("2", start=datetime(2026, 4, 1, 7, 0, tzinfo=UTC), sequence=3)]
    rebooked = replace(
        events[0],
        start=datetime(2026, 4, 2, 7, 0, tzinfo=UTC),
        end=datetime(2026, 4, 2, 8, 0, tzinfo=UTC),
        sequence=1,
    )

    before = {e["uid"]: e["sequence"] for e in read_with_vobject(build_feed(feed_spec(), events))}
    after = {
        e["uid"]: e["sequence"] for e in read_with_vobject(build_feed(feed_spec(), [rebooked, events[1]]))
    }

    assert before == {"appt-1@creneau.local": 0, "appt-2@creneau.local": 3}
    assert after == {"appt-1@creneau.local": 1, "appt-2@creneau.local": 3}


def test_calendar_carries_identity_and_refresh_hints_without_method() -> None:
    body = build_feed(feed_spec(), [appointment()])
    lines = unfolded(body).split("\r\n")

    for expected in (
        "UID:feed-7@creneau",
        "NAME:Mme Durand — Point Écoute",
        "X-WR-CALNAME:Mme Durand — Point Écoute",
        "COLOR:steelblue",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "SOURCE;VALUE=URI:https://creneau.example/feeds/tok3n.ics",
        "DTSTAMP:20260301T080000Z",
        "LAST-MODIFIED:20260301T080000Z",
    ):
        assert expected in lines
    assert not [line for line in lines if line.startswith(("METHOD", "ORGANIZER"))]
    parsed = read_calendar_with_vobject(body)
    assert (parsed["uid"], parsed["name"]) == ("feed-7@creneau", "Mme Durand — Point Écoute")


def test_feed_without_source_url_has_no_source() -> None:
    body = build_feed(feed_spec(source_url=None, refresh=timedelta(minutes=30)), [appointment()])

    assert b"SOURCE" not in body
    assert b"X-PUBLISHED-TTL:PT30M\r\n" in body
    assert len(read_with_vobject(body)) == 1


def test_special_characters_and_long_lines_survive_a_round_trip() -> None:
    notes = special_characters_notes()
    events = special_characters_feed_events(notes)
    body = build_feed(feed_spec("full"), events)

    for event, k in zip(read_with_vobject(body), notes, strict=True):
        assert event["summary"] == f"Entretien psychologue — Réf, n°{k}; \\ fin"
        expected_note = "x" * int(k) + 'é€😀;,\\ C:\\notes "guillemets"\nligne deux\ntrois\nbip' * 6
        assert event["description"] == "Note interne : " + expected_note
    # Lenient parsers accept a bare ";" or "\\ ": check the RFC 5545 escaping itself.
    assert "SUMMARY:Entretien psychologue — Réf\\, n°0\\; \\\\ fin\r\n" in unfolded(body)
    physical = body.split(b"\r\n")
    assert physical[-1] == b"" and b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical)
    assert max(len(line) for line in physical) <= 75


def test_a_name_with_line_breaks_stays_one_escaped_property_and_injects_no_event() -> None:
    # Bare CRs once became line ends in vobject: this name was read as two more VEVENTs.
    injected = (
        "École 🎒\rEND:VCALENDAR\rBEGIN:VEVENT\rUID:x\rSUMMARY:INJECTED\rDTSTART:20260101T000000Z\rEND:VEVENT"
    )
    name = f"Mme Durand\nbis; a,b \\ {injected}\x00\x1b\u2028\ud800 fin"
    body = build_feed(feed_spec(name=name), [appointment()])

    shown = "Mme Durand\nbis; a,b \\ " + "\n".join(injected.split("\r")) + " fin"
    escaped = shown.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    read = vobject.readOne(body.decode())
    assert (read.contents["name"][0].value, read.contents["x-wr-calname"][0].value) == (shown, shown)
    # icalendar (like ical.js, checked end to end in tests/e2e/test_feed_text.py) leaves these two
    # properties' values raw: it sees one escaped line.
    calendar = Calendar.from_ical(body)
    assert (str(calendar["NAME"]), str(calendar["X-WR-CALNAME"])) == (escaped, escaped)
    assert [event.uid.value for event in read.contents["vevent"]] == ["appt-101@creneau.local"]
    assert [event["UID"] for event in calendar.walk("VEVENT")] == ["appt-101@creneau.local"]
    lines = unfolded(body).split("\r\n")
    assert [line for line in lines if line.startswith(("NAME", "X-WR-CALNAME"))] == [
        "NAME:" + escaped, "X-WR-CALNAME:" + escaped]
    assert b"\r" not in body.replace(b"\r\n", b"") and b"\n" not in body.replace(b"\r\n", b"")


def test_empty_feed_is_a_valid_calendar() -> None:
    body = build_feed(feed_spec(), [])

    assert read_with_vobject(body) == []
    assert read_calendar_with_vobject(body) == {
        "uid": "feed-7@creneau",
        "name": "Mme Durand — Point Écoute",
        "timezones": [],
        "events": [],
    }


def test_naive_or_inverted_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        appointment(start=datetime(2026, 3, 31, 9, 0))
    with pytest.raises(ValueError, match="end must be after start"):
        appointment(end=datetime(2026, 3, 31, 6, 0, tzinfo=UTC))


def test_duplicate_appointment_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"duplicate appointment ids.*'101'"):
        build_feed(feed_spec(), [appointment(), appointment(start=datetime(2026, 4, 1, 7, 0, tzinfo=UTC))])


def test_unknown_privacy_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="privacy"):
        feed_spec("everything")  # type: ignore[arg-type]


def test_a_staff_link_and_a_mark_show_above_busy_only() -> None:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    event = FeedEvent("a1", start, start + timedelta(hours=1), "Europe/Paris", "booked", 0, start,
                      "Entretien", "office", "École", None, "PRE-1", url="https://x.fr/s/t", mark="to_decide")
    standard = render_event(event, "standard", "creneau.fr").vevent.replace(b"\r\n ", b"").decode()
    busy = render_event(event, "busy", "creneau.fr").vevent.decode()

    assert "\r\nURL;VALUE=URI:https://x.fr/s/t\r\n" in standard
    assert "SUMMARY:[À décider] Entretien — PRE-1\r\n" in standard
    assert "Noter la venue ou annuler : https://x.fr/s/t" in standard
    assert "URL" not in busy and "DESCRIPTION" not in busy
    assert "SUMMARY:[À décider] Occupé\r\n" in busy
    cancelled = render_event(replace(event, status="cancelled"), "standard", "creneau.fr").vevent.decode()
    assert "SUMMARY:(annulé) Entretien — PRE-1\r\n" in cancelled
