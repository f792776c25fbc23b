"""Calendar feeds through a real server process, on SQLite and PostgreSQL, read back by vobject and ical.js.

Every expectation is written literally or computed here from what the test booked: the
UTC instants from the local times sent, the summaries from the names the API returned.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import holidays
import httpx
from sqlalchemy import update

from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Feed, InterpreterRelease
from scheduler.services.feeds import hash_token
from tests.support.api import PROBLEM, Programme, at, booking, created, family, programme, upcoming
from tests.support.ical import parsed_events, read_with_icaljs, unfolded, without_staff_link
from tests.support.server import RunningServer

CALENDAR = "text/calendar; charset=utf-8"
UID_DOMAIN = "creneau.fr"
ADDRESS = "1 rue de la Paix"  # what tests.support.api.programme gives every site
PHONE = "06 12 34 56 78"
NOTE_PHONE = "07 11 22 33 44"
# Any French mobile or landline number, national or international, with or without separators.
FRENCH_PHONE = re.compile(r"(?:\+33|0033|\b0)\s*\(?0?\)?\s*[1-9](?:[\s.\-]*\d{2}){4}")


# --- helpers ---------------------------------------------------------------------------------


def new_feed(client: httpx.Client, owner: str, owner_id: str, privacy: str | None = None) -> dict[str, Any]:
    """Create a feed of a staff member (owner="staff") or a site (owner="sites")."""
    body = {"privacy": privacy} if privacy else None
    return created(client.post(f"/v1/{owner}/{owner_id}/feeds", json=body))


def fetch(url: str, etag: str | None = None) -> httpx.Response:
    """GET a feed as a calendar application does: no API key, maybe a conditional request."""
    headers = {"If-None-Match": etag} if etag else {}
    return httpx.get(url, headers=headers, timeout=30)


def feed_events(url: str) -> list[dict[str, Any]]:
    """The feed's events, read by both parsers (which must agree), without a staff feed's
    outcome page links in their descriptions (see tests/e2e/test_staff_links.py)."""
    response = fetch(url)
    assert response.status_code == 200, response.text
    return [{**event, "description": without_staff_link(event["description"])}
            for event in parsed_events(response.content)]


def book(client: httpx.Client, prog: Programme, start: str, **overrides: Any) -> dict[str, Any]:
    """Book through the API; the appointment as returned."""
    return created(client.post("/v1/appointments", json=booking(prog, start, **overrides)))


def name_of(client: httpx.Client, resource: str, ident: str) -> str:
    """The name the API holds for a site, staff member or service."""
    response = client.get(f"/v1/{resource}/{ident}")
    assert response.status_code == 200, response.text
    name: str = response.json()["name"]
    return name


def utc(iso_local: str) -> str:
    """An ISO 8601 time with offset, as the UTC text both parsers give."""
    return datetime.fromisoformat(iso_local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(appointment: dict[str, Any]) -> str:
    return f"appt-{appointment['id']}@{UID_DOMAIN}"


def by_uid(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {event["uid"]: event for event in events}


def set_columns(server: RunningServer, appointment_id: str, **values: Any) -> None:
    """Change an appointment row directly (what the API cannot do yet, or a past date)."""
    write_directly(server, update(Appointment).where(Appointment.id == appointment_id).values(**values))


def write_directly(server: RunningServer, statement: Any) -> None:
    """Run a statement from this process, as another worker's write would land: the server's
    own caches are not told."""

    async def run() -> None:
        db = Database.from_url(server.database.url)
        try:
            async with db.write() as session:
                await session.execute(statement)
        finally:
            await db.dispose()

    asyncio.run(run())


def vevents(body: bytes) -> bytes:
    """The events of a feed body, without the envelope that names the feed."""
    return body[body.index(b"BEGIN:VEVENT") : body.rindex(b"END:VEVENT")]


def without_links(body: bytes) -> bytes:
    """The events of a staff feed body, unfolded, each outcome page link (bound to its feed, so
    different in another feed of the same person) replaced by one placeholder."""
    unfolded_events = vevents(body).replace(b"\r\n ", b"")
    return re.sub(rb"/s/[0-9a-f]{32}-[0-9a-f]{32}-[A-Za-z0-9_-]{22}", b"/s/LINK", unfolded_events)


def add_rule(client: httpx.Client, prog: Programme, weekday: int, staff_id: str | None = None) -> None:
    """Another weekly rule, 09:00-12:00, for the programme's service at its site."""
    created(client.post("/v1/availability-rules", json={
        "staff_id": staff_id or prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
        "weekday": weekday, "start_time": "09:00", "end_time": "12:00", "valid_from": "2026-01-01"}))


# --- content ---------------------------------------------------------------------------------


def test_staff_feed_has_one_event_per_appointment_at_its_utc_instant(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=3)
        day = upcoming(3)
        first = book(client, prog, at(day, "09:00"), family=family("PRE-FEED-001"))
        second = book(client, prog, at(day + timedelta(days=7), "11:00"), family=family("PRE-FEED-002"))
        service = name_of(client, "services", prog.service_id)
        site = name_of(client, "sites", prog.site_id)
        feed = new_feed(client, "staff", prog.staff_id)

    assert feed["privacy"] == "standard"
    assert feed["url"] == f"{server.base_url}/feeds/{feed['token']}.ics"
    assert by_uid(feed_events(feed["url"])) == {
        uid(first): {"uid": uid(first), "status": "CONFIRMED", "sequence": 0,
                     "summary": f"{service} — PRE-FEED-001", "location": f"{site}, {ADDRESS}",
                     "description": None, "start": utc(at(day, "09:00")), "end": utc(at(day, "10:00"))},
        uid(second): {"uid": uid(second), "status": "CONFIRMED", "sequence": 0,
                      "summary": f"{service} — PRE-FEED-002", "location": f"{site}, {ADDRESS}",
                      "description": None, "start": utc(at(day + timedelta(days=7), "11:00")),
                      "end": utc(at(day + timedelta(days=7), "12:00"))},
    }


def test_feed_is_served_as_a_cacheable_calendar_without_api_key(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        book(client, prog, at(upcoming(3), "10:00"))
        staff = name_of(client, "staff", prog.staff_id)
        feed = new_feed(client, "staff", prog.staff_id)

    response = fetch(feed["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == CALENDAR
    assert response.headers["cache-control"] == "private, max-age=300"
    assert re.fullmatch(r'"[0-9a-f]{64}"', response.headers["etag"])  # strong: no W/ prefix
    assert parsedate_to_datetime(response.headers["last-modified"]) <= datetime.now(UTC)
    calendar = read_with_icaljs(response.content)
    assert calendar["name"] == f"{staff} — créneau"
    assert calendar["timezones"] == ["Europe/Paris"]
    assert "\r\nCOLOR:" in unfolded(response.content)
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:" in unfolded(response.content)
    assert "\r\nX-PUBLISHED-TTL:" in unfolded(response.content)


def test_cancel_and_reschedule_keep_uids_and_raise_sequence(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=3)
        day = upcoming(3)
        moved = book(client, prog, at(day, "09:00"), family=family("PRE-MOVE"))
        dropped = book(client, prog, at(day, "10:00"), family=family("PRE-DROP"))
        service = name_of(client, "services", prog.service_id)
        feed = new_feed(client, "staff", prog.staff_id)
        before = by_uid(feed_events(feed["url"]))
        assert client.post(f"/v1/appointments/{moved['id']}/reschedule",
                           json={"start": at(day + timedelta(days=7), "11:00")}).status_code == 200
        assert (
            client.post(f"/v1/appointments/{dropped['id']}/cancel", json={"reason": "malade"}).status_code
            == 200
        )

    after = by_uid(feed_events(feed["url"]))
    assert set(after) == set(before) == {uid(moved), uid(dropped)}
    assert (after[uid(moved)]["start"], after[uid(moved)]["end"]) == (
        utc(at(day + timedelta(days=7), "11:00")), utc(at(day + timedelta(days=7), "12:00")))
    assert after[uid(moved)]["sequence"] > before[uid(moved)]["sequence"]
    assert after[uid(moved)]["status"] == "CONFIRMED"
    assert after[uid(dropped)]["status"] == "CANCELLED"
    assert after[uid(dropped)]["summary"] == f"(annulé) {service} — PRE-DROP"
    assert after[uid(dropped)]["sequence"] > before[uid(dropped)]["sequence"]
    assert after[uid(dropped)]["start"] == utc(at(day, "10:00"))


def test_two_feeds_of_one_staff_member_give_the_same_uids(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = book(client, prog, at(upcoming(3), "09:00"))
        first = new_feed(client, "staff", prog.staff_id, "busy")
        second = new_feed(client, "staff", prog.staff_id, "busy")

    assert first["token"] != second["token"]
    assert [event["uid"] for event in feed_events(first["url"])] == [uid(appointment)]
    assert [event["uid"] for event in feed_events(second["url"])] == [uid(appointment)]
    # Each feed is its own calendar, with its own stable calendar UID.
    assert (
        read_with_icaljs(fetch(first["url"]).content)["uid"]
        != read_with_icaljs(fetch(second["url"]).content)["uid"]
    )
    assert (
        read_with_icaljs(fetch(first["url"]).content)["uid"]
        == read_with_icaljs(fetch(first["url"]).content)["uid"]
    )


def test_cancelled_appointment_leaves_the_feed_thirty_days_after_its_cancellation(
    server: RunningServer,
) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = book(client, prog, at(upcoming(3), "09:00"))
        client.post(f"/v1/appointments/{appointment['id']}/cancel")
        feed = new_feed(client, "staff", prog.staff_id)
    assert [event["status"] for event in feed_events(feed["url"])] == ["CANCELLED"]
    etag = fetch(feed["url"]).headers["etag"]

    set_columns(server, appointment["id"], updated_at=datetime.now(UTC) - timedelta(days=32))
    response = fetch(feed["url"], etag)
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    assert parsed_events(response.content) == []


def test_appointments_long_past_are_left_out(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        kept = book(client, prog, at(upcoming(3), "09:00"))
        old = book(client, prog, at(upcoming(3), "10:00"))
        feed = new_feed(client, "staff", prog.staff_id)
    long_ago = datetime.now(UTC) - timedelta(days=120)
    set_columns(server, old["id"], starts_at=long_ago, ends_at=long_ago + timedelta(hours=1))
    assert [event["uid"] for event in feed_events(feed["url"])] == [uid(kept)]


# --- privacy ---------------------------------------------------------------------------------


def privacy_fixture(server: RunningServer) -> tuple[dict[str, dict[str, Any]], str, str]:
    """One appointment with a phone, an interpreter language and a note holding another phone;
    a feed of each privacy level. Returns the feeds by level, the service name and the reference."""
    with server.client() as client:
        prog = programme(client)
        reference = f"PRE-PRIV-{secrets.token_hex(3)}"
        appointment = book(client, prog, at(upcoming(3), "09:00"), family=family(reference, phone=PHONE),
                           note=f"Venir avec le carnet; rappeler la mère au {NOTE_PHONE}")
        service = name_of(client, "services", prog.service_id)
        set_columns(server, appointment["id"], interpreter_language="ar")
        feeds = {
            level: new_feed(client, "staff", prog.staff_id, level) for level in ("full", "standard", "busy")
        }
    return feeds, service, reference


def test_each_privacy_level_shows_only_what_it_may(server: RunningServer) -> None:
    feeds, service, reference = privacy_fixture(server)
    full, standard, busy = (feed_events(feeds[level]["url"])[0] for level in ("full", "standard", "busy"))

    assert full["summary"] == standard["summary"] == f"{service} — {reference}"
    assert "Interprète : ar" in full["description"]
    assert "Venir avec le carnet" in full["description"]
    assert standard["description"] is None
    assert standard["location"] == full["location"]
    assert busy["summary"] == "Occupé"
    assert (busy["location"], busy["description"]) == (None, None)
    busy_text = unfolded(fetch(feeds["busy"]["url"]).content)
    assert reference not in busy_text and service not in busy_text


def test_no_privacy_level_shows_a_phone_number(server: RunningServer) -> None:
    feeds, _, _ = privacy_fixture(server)
    for level, feed in feeds.items():
        text = unfolded(fetch(feed["url"]).content)
        assert FRENCH_PHONE.search(text) is None, level
        for digits in ("12 34 56 78", "12345678", "+33612345678", "11 22 33 44", "711223344"):
            assert digits not in text, (level, digits)


# --- HTTP caching ----------------------------------------------------------------------------


def test_if_none_match_with_the_current_etag_answers_304_without_a_body(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        book(client, prog, at(upcoming(3), "09:00"))
        feed = new_feed(client, "staff", prog.staff_id)
    first = fetch(feed["url"])
    etag = first.headers["etag"]

    again = fetch(feed["url"], etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "private, max-age=300"
    assert fetch(feed["url"], f'"other", {etag}').status_code == 304
    assert fetch(feed["url"], '"not-the-current-one"').status_code == 200
    assert fetch(feed["url"]).content == first.content  # the same bytes, rebuilt or cached


def test_etag_changes_whenever_an_appointment_in_the_window_changes(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        early = book(client, prog, at(day, "09:00"))
        book(client, prog, at(day, "10:00"))
        feed = new_feed(client, "staff", prog.staff_id)
        seen = [fetch(feed["url"]).headers["etag"]]

        def changed(response: httpx.Response) -> None:
            assert response.status_code in (200, 201), response.text
            current = fetch(feed["url"], seen[-1])
            assert current.status_code == 200, "the ETag did not change"
            assert current.headers["etag"] not in seen
            seen.append(current.headers["etag"])

        # The same number of appointments, only the earliest one changing.
        changed(client.post(f"/v1/appointments/{early['id']}/cancel"))
        changed(client.post("/v1/appointments", json=booking(prog, at(day, "11:00"))))
        changed(client.patch(f"/v1/services/{prog.service_id}", json={"name": "Entretien renommé"}))
        changed(client.patch(f"/v1/sites/{prog.site_id}", json={"address": "2 avenue Foch"}))
        changed(client.patch(f"/v1/staff/{prog.staff_id}", json={"name": "Mme Renommée"}))
    events = feed_events(feed["url"])
    assert {event["summary"].split(" — ")[0] for event in events} == {
        "Entretien renommé",
        "(annulé) Entretien renommé",
    }
    assert read_with_icaljs(fetch(feed["url"]).content)["name"] == "Mme Renommée — créneau"


def test_a_rebuild_after_one_change_gives_the_bytes_of_a_fresh_build(server: RunningServer) -> None:
    """The second build reuses the events rendered by the first; a new feed renders them all."""
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        booked = [book(client, prog, at(day + timedelta(days=7 * week), "09:00")) for week in range(3)]
        feed = new_feed(client, "staff", prog.staff_id, "full")
        before = fetch(feed["url"]).content
        assert client.post(f"/v1/appointments/{booked[1]['id']}/cancel").status_code == 200
        rebuilt = fetch(feed["url"]).content
        fresh = fetch(new_feed(client, "staff", prog.staff_id, "full")["url"]).content

    assert without_links(rebuilt) == without_links(fresh) != without_links(before)
    assert by_uid(parsed_events(rebuilt))[uid(booked[1])]["status"] == "CANCELLED"


def test_another_staff_members_change_keeps_the_etag(server: RunningServer) -> None:
    with server.client() as client:
        mine, theirs = programme(client), programme(client)
        book(client, mine, at(upcoming(3), "09:00"))
        feed = new_feed(client, "staff", mine.staff_id)
        etag = fetch(feed["url"]).headers["etag"]
        book(client, theirs, at(upcoming(3), "09:00"))
    assert fetch(feed["url"], etag).status_code == 304


# --- tokens ----------------------------------------------------------------------------------


def test_revoked_token_answers_exactly_like_an_unknown_one(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        feed = new_feed(client, "staff", prog.staff_id)
        assert fetch(feed["url"]).status_code == 200
        assert client.delete(f"/v1/feeds/{feed['token']}").status_code == 204
        again = client.delete(f"/v1/feeds/{feed['token']}")
        assert (again.status_code, again.json()["code"]) == (404, "not-found")

    revoked = fetch(feed["url"])
    unknown = fetch(f"{server.base_url}/feeds/{secrets.token_urlsafe(24)}.ics")
    for response in (revoked, unknown):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "etag" not in response.headers
    assert revoked.json() == unknown.json()
    assert revoked.json()["code"] == "not-found"
    assert feed["token"] not in revoked.text


def test_a_revocation_by_another_process_is_honoured_at_once(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        feed = new_feed(client, "staff", prog.staff_id)
    assert fetch(feed["url"]).status_code == 200  # the server now holds the token look-up

    # Written by this process, not the server's: the owner's change counter moves in the same
    # transaction, and the server's next request reads it.
    write_directly(server, update(Feed).where(Feed.token_hash == hash_token(feed["token"]))
                   .values(revoked_at=datetime.now(UTC)))
    assert fetch(feed["url"]).status_code == 404


def test_tokens_carry_at_least_128_random_bits(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        tokens = {new_feed(client, "staff", prog.staff_id)["token"] for _ in range(3)}
    assert len(tokens) == 3
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", token)  # 22 base64url characters = 132 bits


def test_only_admin_keys_create_or_revoke_feeds(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        key = created(client.post("/v1/api-keys", json={"name": "agenda", "scopes": ["appointments:write"]}))[
            "key"
        ]
        feed = new_feed(client, "staff", prog.staff_id)
    with server.client(key) as client:
        assert client.post(f"/v1/staff/{prog.staff_id}/feeds").status_code == 403
        assert client.delete(f"/v1/feeds/{feed['token']}").status_code == 403
    assert httpx.post(f"{server.base_url}/v1/staff/{prog.staff_id}/feeds").status_code == 401
    assert fetch(feed["url"]).status_code == 200


def test_feed_of_an_unknown_owner_or_privacy_is_refused(server: RunningServer) -> None:
    with server.client() as client:
        for path in ("/v1/staff/nobody/feeds", "/v1/sites/nowhere/feeds"):
            response = client.post(path, json={"privacy": "busy"})
            assert (response.status_code, response.json()["code"]) == (404, "not-found"), path
        prog = programme(client)
        bad = client.post(f"/v1/staff/{prog.staff_id}/feeds", json={"privacy": "everything"})
        assert (bad.status_code, bad.json()["code"]) == (422, "validation-error")


# --- sites and collective sessions -----------------------------------------------------------


def test_site_feed_shows_every_staff_member_at_the_site(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=3)
        colleague = created(client.post("/v1/staff", json={"name": "M. Collègue", "role": "social_worker"}))[
            "id"
        ]
        add_rule(client, prog, 3, staff_id=colleague)
        day = upcoming(3)
        mine = book(client, prog, at(day, "09:00"), staff_id=prog.staff_id)
        theirs = book(client, prog, at(day, "09:00"), staff_id=colleague)
        site_name = name_of(client, "sites", prog.site_id)
        site_feed = new_feed(client, "sites", prog.site_id, "busy")
        staff_feed = new_feed(client, "staff", colleague, "busy")

    assert {event["uid"] for event in feed_events(site_feed["url"])} == {uid(mine), uid(theirs)}
    assert [event["uid"] for event in feed_events(staff_feed["url"])] == [uid(theirs)]
    assert read_with_icaljs(fetch(site_feed["url"]).content)["name"] == site_name


def test_collective_session_appears_once_with_its_participants(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client, weekday=2, start="18:00", end="20:00", duration=120, capacity=8)
        day = upcoming(2)
        members = [book(client, prog, at(day, "18:00"), family=family(f"PRE-GRP-{n}")) for n in range(3)]
        client.post(f"/v1/appointments/{members[1]['id']}/cancel")
        service = name_of(client, "services", prog.service_id)
        feed = new_feed(client, "staff", prog.staff_id, "full")
        before = feed_events(feed["url"])
        book(client, prog, at(day, "18:00"), family=family("PRE-GRP-9"))
    after = feed_events(feed["url"])

    assert len(before) == len(after) == 1
    assert before[0]["summary"] == f"{service} (2 participants)"
    assert after[0]["summary"] == f"{service} (3 participants)"
    assert after[0]["uid"] == before[0]["uid"]
    assert after[0]["sequence"] > before[0]["sequence"]
    assert (after[0]["start"], after[0]["end"]) == (utc(at(day, "18:00")), utc(at(day, "20:00")))
    assert all(f"PRE-GRP-{n}" not in after[0]["summary"] for n in (0, 1, 2, 9))


# --- time zones ------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, 31)
    return last - timedelta(days=last.isoweekday() % 7)


def _dst_week(month: int) -> tuple[date, date]:
    """The Friday before the next switch in ``month`` (at least 2 days away) and the first
    Tuesday-to-Thursday after it that is not a public holiday."""
    soon = date.today() + timedelta(days=2)
    switch = _last_sunday(soon.year, month)
    if switch - timedelta(days=2) < soon:
        switch = _last_sunday(soon.year + 1, month)
    closed = holidays.France(years=switch.year)
    after = next(switch + timedelta(days=n) for n in (2, 3, 4) if switch + timedelta(days=n) not in closed)
    return switch - timedelta(days=2), after


def test_paris_dst_weeks_keep_wall_times_and_utc_instants(server: RunningServer) -> None:
    spring, autumn = _dst_week(3), _dst_week(10)
    days = [*spring, *autumn]
    with server.client() as client:
        prog = programme(client, weekday=5, horizon_days=400)
        for weekday in {day.isoweekday() for day in days} - {5}:
            add_rule(client, prog, weekday)
        booked = [book(client, prog, at(day, "09:00")) for day in days]
        feed = new_feed(client, "staff", prog.staff_id, "busy")

    events = by_uid(feed_events(feed["url"]))
    starts = [events[uid(appointment)]["start"] for appointment in booked]
    # 09:00 in Paris is 08:00Z in winter time (+01:00) and 07:00Z in summer time (+02:00).
    assert starts == [f"{spring[0]}T08:00:00Z", f"{spring[1]}T07:00:00Z",
                      f"{autumn[0]}T07:00:00Z", f"{autumn[1]}T08:00:00Z"]
    calendar = read_with_icaljs(fetch(feed["url"]).content)
    assert {event["tzid"] for event in calendar["events"]} == {"Europe/Paris"}


def test_overseas_site_uses_its_own_zone(server: RunningServer) -> None:
    zone = "Indian/Reunion"
    with server.client() as client:
        prog = programme(client, zone=zone)
        day = upcoming(3, zone=zone)
        appointment = book(client, prog, at(day, "09:00", zone))
        feed = new_feed(client, "sites", prog.site_id)

    calendar = read_with_icaljs(fetch(feed["url"]).content)
    assert calendar["timezones"] == [zone]
    [event] = calendar["events"]
    # Réunion is UTC+4 all year: 09:00 there is 05:00Z.
    assert (event["uid"], event["tzid"], event["start"], event["end"]) == (
        uid(appointment), zone, f"{day}T05:00:00Z", f"{day}T06:00:00Z")
    assert feed_events(feed["url"])[0]["start"] == f"{day}T05:00:00Z"


def test_interpreter_feed_shows_their_bookings_at_the_standard_level_at_most(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        interpreter = created(
            client.post("/v1/interpreters", json={"name": "Interprète", "languages": ["wo"]})
        )
        created(client.post("/v1/availability-rules", json={
            "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "09:00", "end_time": "12:00",
            "valid_from": "2026-01-01"}))
        refused = client.post(f"/v1/interpreters/{interpreter['id']}/feeds", json={"privacy": "full"})
        assert (refused.status_code, refused.json()["code"]) == (422, "validation-error")
        feed = new_feed(client, "interpreters", interpreter["id"])
        day = upcoming(3, weeks_ahead=2)
        with_interpreter = book(client, prog, at(day, "10:00"), interpreter_language="wo", note="staff only")
        book(client, prog, at(day, "11:00"))  # no interpreter: not in the interpreter's feed
        events = feed_events(feed["url"])
        assert [event["uid"] for event in events] == [uid(with_interpreter)]
        assert events[0]["start"] == utc(at(day, "10:00"))
        assert "staff only" not in fetch(feed["url"]).text


# --- interpreters released from an appointment that lives on ----------------------------------


def pool_interpreter(client: httpx.Client, language: str, start: str, end: str) -> str:
    """A pool interpreter of ``language``, free on Wednesdays from ``start`` to ``end``; their id."""
    made = created(client.post("/v1/interpreters", json={"name": "Interprète", "languages": [language]}))
    created(client.post("/v1/availability-rules", json={
        "interpreter_id": made["id"], "weekday": 3, "start_time": start, "end_time": end,
        "valid_from": "2026-01-01"}))
    interpreter_id: str = made["id"]
    return interpreter_id


def reschedule(client: httpx.Client, appointment: dict[str, Any], start: str) -> dict[str, Any]:
    response = client.post(f"/v1/appointments/{appointment['id']}/reschedule", json={"start": start})
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


def test_a_move_to_another_interpreter_cancels_the_event_in_the_first_ones_feed(
    server: RunningServer,
) -> None:
    with server.client() as client:
        prog = programme(client)
        first = pool_interpreter(client, "ha", "09:00", "10:00")
        second = pool_interpreter(client, "ha", "11:00", "12:00")
        day = upcoming(3, weeks_ahead=2)
        appointment = book(client, prog, at(day, "09:00"), interpreter_language="ha",
                           family=family("PRE-REL-1", phone=PHONE))
        assert appointment["interpreter"]["interpreter_id"] == first
        service = name_of(client, "services", prog.service_id)
        first_feed, second_feed = (
            new_feed(client, "interpreters", first),
            new_feed(client, "interpreters", second),
        )
        before = fetch(first_feed["url"])
        [shown] = parsed_events(before.content)
        assert feed_events(second_feed["url"]) == []
        # Only the second interpreter is free at 11:00: the move takes them.
        assert reschedule(client, appointment, at(day, "11:00"))["interpreter"]["interpreter_id"] == second

    after = fetch(first_feed["url"], before.headers["etag"])
    assert after.status_code == 200, "the release did not change the ETag"
    assert after.headers["etag"] != before.headers["etag"]
    [released] = parsed_events(after.content)
    # The booking the first interpreter had, at the time they had it, cancelled.
    assert released == shown | {"status": "CANCELLED", "sequence": shown["sequence"] + 1,
                                "summary": f"(annulé) {service} — PRE-REL-1"}
    assert (released["uid"], released["start"]) == (uid(appointment), utc(at(day, "09:00")))
    assert FRENCH_PHONE.search(unfolded(after.content)) is None
    [taken] = feed_events(second_feed["url"])
    assert (taken["uid"], taken["status"], taken["start"]) == (
        uid(appointment),
        "CONFIRMED",
        utc(at(day, "11:00")),
    )
    assert fetch(first_feed["url"], after.headers["etag"]).status_code == 304


def test_a_released_booking_leaves_the_feed_thirty_days_after_its_release(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        first = pool_interpreter(client, "ln", "09:00", "10:00")
        pool_interpreter(client, "ln", "11:00", "12:00")
        day = upcoming(3, weeks_ahead=3)
        appointment = book(client, prog, at(day, "09:00"), interpreter_language="ln")
        feed = new_feed(client, "interpreters", first)
        reschedule(client, appointment, at(day, "11:00"))
    assert [event["status"] for event in feed_events(feed["url"])] == ["CANCELLED"]
    etag = fetch(feed["url"]).headers["etag"]

    write_directly(
        server,
        update(InterpreterRelease)
        .where(InterpreterRelease.appointment_id == appointment["id"])
        .values(released_at=datetime.now(UTC) - timedelta(days=32)),
    )
    response = fetch(feed["url"], etag)
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    assert parsed_events(response.content) == []


def test_an_interpreter_booked_back_sees_the_booking_once_and_confirmed(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        first = pool_interpreter(client, "ti", "09:00", "10:00")
        second = pool_interpreter(client, "ti", "11:00", "12:00")
        day = upcoming(3, weeks_ahead=4)
        appointment = book(client, prog, at(day, "09:00"), interpreter_language="ti")
        first_feed, second_feed = (
            new_feed(client, "interpreters", first),
            new_feed(client, "interpreters", second),
        )
        reschedule(client, appointment, at(day, "11:00"))
        [released] = feed_events(first_feed["url"])
        # Back at 09:00, when only the first interpreter is free.
        assert reschedule(client, appointment, at(day, "09:00"))["interpreter"]["interpreter_id"] == first

    [back] = feed_events(first_feed["url"])
    assert (back["uid"], back["status"], back["start"]) == (
        uid(appointment),
        "CONFIRMED",
        utc(at(day, "09:00")),
    )
    assert back["sequence"] > released["sequence"]
    [off] = feed_events(second_feed["url"])
    assert (off["uid"], off["status"], off["start"]) == (uid(appointment), "CANCELLED", utc(at(day, "11:00")))

    with server.client() as client:  # released a second time: the latest booking is the one cancelled
        reschedule(client, appointment, at(day, "11:00"))
    [again] = feed_events(first_feed["url"])
    assert (again["status"], again["start"], again["sequence"]) == ("CANCELLED", utc(at(day, "09:00")),
                                                                    back["sequence"] + 1)


def test_an_agency_interpreter_cancels_the_event_in_the_pool_interpreters_feed(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        interpreter = pool_interpreter(client, "ig", "09:00", "12:00")
        day = upcoming(3, weeks_ahead=5)
        appointment = book(client, prog, at(day, "10:00"), interpreter_language="ig")
        feed = new_feed(client, "interpreters", interpreter)
        before = fetch(feed["url"])
        [shown] = parsed_events(before.content)
        attached = client.post(f"/v1/appointments/{appointment['id']}/interpreter", json={
            "language": "ig", "agency": "ISM Interprétariat", "reference": "ISM-2026-0099"})
        assert attached.status_code == 200, attached.text

    after = fetch(feed["url"], before.headers["etag"])
    assert after.status_code == 200, "the release did not change the ETag"
    [released] = parsed_events(after.content)
    assert (released["uid"], released["status"], released["start"]) == (uid(appointment), "CANCELLED",
                                                                         utc(at(day, "10:00")))
    assert released["sequence"] > shown["sequence"]
    assert "ISM" not in unfolded(after.content)
