"""Outcomes from the calendar, through a real server on SQLite and PostgreSQL (one server per database).

A staff member's feed is fetched and read by ical.js; its event's link leads to the staff page,
whose form (with the page's CSRF value) records a no-show, seen then in the appointment, its
events and the statistics. Links are bound to their feed and appointment, and die with the feed.
A site's feed marks what its coordinator must decide or record.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.test_family_page_browser import ARTIFACTS, BROWSER_SECONDS, BROWSER_TESTS, CHROMIUM
from tests.e2e.test_feeds import book, fetch, new_feed, set_columns
from tests.support.api import at, created, family, programme, unique, upcoming
from tests.support.ical import parsed_events, read_with_icaljs
from tests.support.server import RunningServer

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{32})"')
LINK_LINE = "Noter la venue ou annuler : "


def run_browser_script(script: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run one of tests/browser's scripts with Node.js and Debian's Chromium (both part of the suite)."""
    node = shutil.which("node")
    assert node is not None and CHROMIUM.exists(), "Node.js and Chromium are needed (see .ci/run)"
    return subprocess.run([node, str(BROWSER_TESTS / script), *arguments], check=False,
                          capture_output=True, text=True, timeout=BROWSER_SECONDS,
                          env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)})


def in_the_past(server: RunningServer, appointment_id: str, ended_ago: timedelta) -> datetime:
    """Move an appointment (directly in the database) to one hour ending ``ended_ago``; its start."""
    end = datetime.now(UTC).replace(microsecond=0) - ended_ago
    set_columns(server, appointment_id, starts_at=end - timedelta(hours=1), ends_at=end)
    return end - timedelta(hours=1)


def link_of(feed_url: str, appointment_id: str) -> str:
    """The outcome page link of one appointment, as ical.js reads the feed (URL property), checked
    against the description's last line."""
    response = fetch(feed_url)
    assert response.status_code == 200, response.text
    events = {event["uid"]: event for event in read_with_icaljs(response.content)["events"]}
    event = events[f"appt-{appointment_id}@creneau.fr"]
    url: str = event["url"]
    assert event["description"].split("\n")[-1] == LINK_LINE + url
    return url


def csrf_of(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def no_shows_at(client: httpx.Client, site_id: str, start: datetime) -> int:
    day = start.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    response = client.get("/v1/stats/appointments", params={"from": day, "to": day, "group_by": "site"})
    assert response.status_code == 200, response.text
    rows = [row for row in response.json()["rows"] if row["site_id"] == site_id]
    return int(rows[0]["no_show"]) if rows else 0


def test_a_no_show_recorded_from_the_feed_link_reaches_the_stats(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = book(client, prog, at(upcoming(3), "09:00"), family=family(unique("PRE-LINK")))
        start = in_the_past(server, appointment["id"], timedelta(hours=2))
        feed = new_feed(client, "staff", prog.staff_id, "standard")
        assert no_shows_at(client, prog.site_id, start) == 0

        url = link_of(feed["url"], appointment["id"])
        assert url.startswith(f"{server.base_url}/s/")
        etag = fetch(feed["url"]).headers["etag"]
        assert fetch(feed["url"], etag).status_code == 304
        page = httpx.get(url, timeout=10)
        assert 'value="no_show"' in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        answer = httpx.post(url + "/outcome", data={"csrf": csrf_of(page), "outcome": "no_show"}, timeout=10)

        assert (answer.status_code, answer.headers["location"]) == (303, url.removeprefix(server.base_url))
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["status"] == "no_show"
        events = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
        assert events[-1]["type"] == "appointment.outcome_recorded"
        assert events[-1]["actor"] == {"kind": "staff", "id": prog.staff_id,
                                       "name": client.get(f"/v1/staff/{prog.staff_id}").json()["name"]}
        assert no_shows_at(client, prog.site_id, start) == 1
        # The outcome changed the feed: the old ETag no longer matches.
        assert fetch(feed["url"], etag).status_code == 200
        assert 'data-state="no_show"' in httpx.get(url, timeout=10).text


def test_links_are_bound_to_their_feed_and_die_with_it(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        appointment = book(client, prog, at(upcoming(3), "10:00"))
        first = new_feed(client, "staff", prog.staff_id, "full")
        second = new_feed(client, "staff", prog.staff_id, "standard")
        busy = new_feed(client, "staff", prog.staff_id, "busy")
        link = link_of(first["url"], appointment["id"])
        other = link_of(second["url"], appointment["id"])
        busy_event = read_with_icaljs(fetch(busy["url"]).content)["events"][0]
        assert busy_event["url"] is None and busy_event["description"] is None

        first_id, appointment_id, mac = link.rsplit("/", 1)[1].split("-", 2)  # the mac may hold "-"
        second_id = other.rsplit("/", 1)[1].split("-")[0]
        forged = [f"{second_id}-{appointment_id}-{mac}", f"{first_id}-{appointment_id}-{'A' * 22}",
                  f"{first_id}-{'0' * 32}-{mac}"]
        for token in forged:
            assert httpx.get(f"{server.base_url}/s/{token}", timeout=10).status_code == 404, token
        csrf = csrf_of(httpx.get(link, timeout=10))
        refused = httpx.post(link + "/cancel", data={"csrf": "0" * 32, "reason": "test"}, timeout=10)
        assert refused.status_code == 403
        assert httpx.post(link + "/cancel", data={"csrf": csrf, "reason": " "}, timeout=10).status_code == 422
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["status"] == "booked"

        assert client.delete(f"/v1/feeds/{first['token']}").status_code == 204
        assert httpx.get(link, timeout=10).status_code == 404
        gone = httpx.post(link + "/cancel", data={"csrf": csrf, "reason": "malade"}, timeout=10)
        assert gone.status_code == 404
        cancelled = httpx.post(other + "/cancel", data={"csrf": csrf_of(httpx.get(other, timeout=10)),
                                                       "reason": "Intervenante malade"}, timeout=10)
        assert cancelled.status_code == 303
        shown = client.get(f"/v1/appointments/{appointment['id']}").json()
        assert (shown["status"], shown["cancelled_by"]) == ("cancelled", "staff")
        assert "Intervenante malade" in httpx.get(other, timeout=10).text


def test_site_feed_marks_what_the_coordinator_must_decide_or_record(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3)
        reference = unique("PRE-SITE")
        closed = book(client, prog, at(day, "09:00"), family=family(reference))
        open_day = book(client, prog, at(day + timedelta(days=7), "09:00"))
        unrecorded = book(client, prog, at(day + timedelta(days=14), "09:00"))
        old = book(client, prog, at(day + timedelta(days=21), "09:00"))
        in_the_past(server, unrecorded["id"], timedelta(hours=3))
        in_the_past(server, old["id"], timedelta(days=8))
        closure = created(client.post("/v1/closures", json={
            "site_id": prog.site_id, "start": at(day, "00:00"), "end": at(day + timedelta(days=1), "00:00"),
            "reason": "grève"}))
        assert [item["id"] for item in closure["affected_appointments"]] == [closed["id"]]
        feed = new_feed(client, "sites", prog.site_id, "standard")

        response = fetch(feed["url"])
        events = {event["uid"].split("@")[0].removeprefix("appt-"): event
                  for event in parsed_events(response.content)}
        assert events[closed["id"]]["summary"].startswith("[À décider] ")
        assert events[unrecorded["id"]]["summary"].startswith("[Venue à noter] ")
        assert not events[open_day["id"]]["summary"].startswith("[")
        assert not events[old["id"]]["summary"].startswith("[")
        for marked in (closed["id"], unrecorded["id"]):
            description: str = events[marked]["description"]
            assert reference not in description and "grève" not in description

        assert client.post(f"/v1/appointments/{unrecorded['id']}/outcome",
                           json={"status": "attended"}).status_code == 200
        assert fetch(feed["url"], response.headers["etag"]).status_code == 200
        after = {event["uid"]: event["summary"] for event in parsed_events(fetch(feed["url"]).content)}
        assert not after[f"appt-{unrecorded['id']}@creneau.fr"].startswith("[")


def test_the_staff_page_in_a_real_browser_records_a_no_show_and_passes_axe(server: RunningServer) -> None:
    """tests/browser/staff_page.mjs: headless Chromium, axe-core, 320 px, 44 px targets, nothing loaded."""
    with server.client() as client:
        prog = programme(client)
        appointment = book(client, prog, at(upcoming(3), "11:00"), family=family(unique("PRE-BROWSER")))
        in_the_past(server, appointment["id"], timedelta(minutes=10))
        link = link_of(new_feed(client, "staff", prog.staff_id, "full")["url"], appointment["id"])

    done = run_browser_script("staff_page.mjs", link, str(ARTIFACTS))

    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    assert (ARTIFACTS / "staff-page.png").stat().st_size > 0
    with server.client() as client:
        assert client.get(f"/v1/appointments/{appointment['id']}").json()["status"] == "no_show"
