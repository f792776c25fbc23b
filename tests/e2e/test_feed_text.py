"""No text reaches a feed unescaped: hostile names, notes and addresses, read back by three parsers.

Every field a feed shows (the owner's name, the service's and site's names, the site's address,
the family's reference, the interpreter language, the note) holds ";", ",", "\\" and text
beyond the BMP through the API, and line breaks, control characters and a would-be injected
VEVENT written directly into the database (what the API now refuses). Each feed, at each
privacy level, must still be one calendar with exactly the booked event, as icalendar, vobject
and ical.js read it.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import vobject  # type: ignore[import-untyped]
from icalendar import Calendar
from sqlalchemy import update

from scheduler.db.tables import Appointment, Family, Interpreter, Service, Site, Staff
from tests.support.api import at, booking, created, family, programme, upcoming
from tests.support.ical import parsed_events, without_staff_link
from tests.support.raw_rows import write_directly
from tests.support.server import RunningServer

UID_DOMAIN = "creneau.fr"
# Accepted by the API: RFC 5545 specials and a character beyond the BMP.
ACCEPTED = "École 🎒; a,b \\ c"
ACCEPTED_LINES = "École 🎒; a,b \\ c\nligne 2"
# Refused by the API, written directly: bare CRs that once injected a VEVENT, a line feed and
# ESC (NUL too on SQLite: PostgreSQL cannot store it).
INJECTION = "R\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:INJECTED\rEND:VEVENT\nL\x1b{nul}N;,\\ 🎒"
SHOWN_INJECTION = "R\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:INJECTED\nEND:VEVENT\nLN;,\\ 🎒"
LANGUAGE = "a\r;\x1b{nul}🎒"
SHOWN_LANGUAGE = "a\n;🎒"


def fetch_feed(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def read_three_ways(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The calendar's name (vobject) and its events: vobject and ical.js must agree, and
    icalendar must find the same events with the same summaries."""
    events = parsed_events(body)
    calendar = Calendar.from_ical(body)
    from_icalendar = [(str(event["UID"]), str(event["SUMMARY"])) for event in calendar.walk("VEVENT")]
    assert from_icalendar == [(event["uid"], event["summary"]) for event in events]
    name: str = vobject.readOne(body.decode()).contents["x-wr-calname"][0].value
    return name, events


def hostile_booking(server: RunningServer, client: httpx.Client, reference: str) -> dict[str, Any]:
    """A programme whose every feed-facing text is ACCEPTED, an interpreter, one booking; its ids."""
    prog = programme(client)
    client.patch(f"/v1/sites/{prog.site_id}", json={"name": f"Site {ACCEPTED}", "address": ACCEPTED_LINES}
                 ).raise_for_status()
    client.patch(f"/v1/staff/{prog.staff_id}", json={"name": f"Staff {ACCEPTED}"}).raise_for_status()
    client.patch(f"/v1/services/{prog.service_id}", json={"name": f"Service {ACCEPTED}"}).raise_for_status()
    language = secrets.choice(["wo", "ha", "yo", "ln", "sw"])
    interpreter = created(client.post("/v1/interpreters", json={"name": f"Interprète {ACCEPTED}",
                                                                "languages": [language]}))
    created(client.post("/v1/availability-rules", json={
        "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "09:00", "end_time": "12:00",
        "valid_from": "2026-01-01"}))
    start = at(upcoming(3, weeks_ahead=2), "10:00")
    appointment = created(client.post("/v1/appointments", json=booking(
        prog, start, family=family(reference), interpreter_language=language, note=ACCEPTED_LINES)))
    return {
        "prog": prog,
        "interpreter_id": interpreter["id"],
        "appointment": appointment,
        "language": language,
    }


def feeds_of(client: httpx.Client, made: dict[str, Any]) -> dict[str, str]:
    prog = made["prog"]
    urls = {}
    for owner, ident in (("staff", prog.staff_id), ("sites", prog.site_id)):
        for level in ("full", "standard", "busy"):
            urls[f"{owner}-{level}"] = created(client.post(f"/v1/{owner}/{ident}/feeds",
                                                           json={"privacy": level}))["url"]
    for level in ("standard", "busy"):
        urls[f"interpreters-{level}"] = created(
            client.post(f"/v1/interpreters/{made['interpreter_id']}/feeds", json={"privacy": level})
        )["url"]
    return urls


def expected(owner_kind: str, level: str, texts: dict[str, str]) -> dict[str, Any]:
    """What a parser must read: the calendar's name and the event's three texts."""
    names = {"staff": f"{texts['staff']} — créneau", "sites": texts["site"],
             "interpreters": f"{texts['interpreter']} — créneau"}
    summary = f"{texts['service']} — {texts['reference']}" if level != "busy" else "Occupé"
    location = f"{texts['site']}, {texts['address']}" if level != "busy" else None
    description = (f"Interprète : {texts['language']}\nNote interne : {texts['note']}"
                   if level == "full" else None)
    return {"name": names[owner_kind], "summary": summary, "location": location, "description": description}


@pytest.mark.parametrize("written", ["through_the_api", "directly_in_the_database"])
def test_no_stored_text_breaks_or_injects_into_any_feed(server: RunningServer, written: str) -> None:
    reference = f"PRE-{secrets.token_hex(4)}"
    with server.client() as client:
        made = hostile_booking(server, client, reference)
        texts = {"staff": f"Staff {ACCEPTED}", "site": f"Site {ACCEPTED}", "service": f"Service {ACCEPTED}",
                 "interpreter": f"Interprète {ACCEPTED}", "address": ACCEPTED_LINES, "note": ACCEPTED_LINES,
                 "reference": reference, "language": made["language"]}
        if written == "directly_in_the_database":
            nul = "\x00" if server.database.kind == "sqlite" else ""
            raw, raw_language = INJECTION.format(nul=nul), LANGUAGE.format(nul=nul)
            prog, appointment_id = made["prog"], made["appointment"]["id"]
            write_directly(
                server,
                update(Staff).where(Staff.id == prog.staff_id).values(name=f"S{raw}"),
                update(Site).where(Site.id == prog.site_id).values(name=f"L{raw}", address=f"A{raw}"),
                update(Service).where(Service.id == prog.service_id).values(name=f"V{raw}"),
                update(Interpreter).where(Interpreter.id == made["interpreter_id"]).values(name=f"I{raw}"),
                update(Family).where(Family.reference == reference).values(reference=f"F{raw}"),
                update(Appointment).where(Appointment.id == appointment_id).values(
                    note=f"N{raw}", interpreter_language=raw_language),
            )
            texts = {"staff": f"S{SHOWN_INJECTION}", "site": f"L{SHOWN_INJECTION}",
                     "service": f"V{SHOWN_INJECTION}", "interpreter": f"I{SHOWN_INJECTION}",
                     "address": f"A{SHOWN_INJECTION}", "note": f"N{SHOWN_INJECTION}",
                     "reference": f"F{SHOWN_INJECTION}", "language": SHOWN_LANGUAGE}
        urls = feeds_of(client, made)

    uid = f"appt-{made['appointment']['id']}@{UID_DOMAIN}"
    for key, url in urls.items():
        owner_kind, level = key.split("-")
        name, events = read_three_ways(fetch_feed(url))
        want = expected(owner_kind, level, texts)
        assert [event["uid"] for event in events] == [uid], key
        assert name == want["name"], key
        event = events[0]
        assert (event["summary"], event["location"]) == (want["summary"], want["location"]), key
        if owner_kind != "interpreters":
            assert without_staff_link(event["description"]) == want["description"], key
