"""Care pathways in-process, on both databases, on a fixed clock: booked whole or not at all, read,
listed, extended, one session changed alone, closed; the family's texts, one per change."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from tests.api.conftest import InProcess
from tests.support.api import PROBLEM, Programme, created, family, programme

WEEKS = ["2026-03-11", "2026-03-18", "2026-03-25", "2026-04-01"]


def _at(day: str, hhmm: str = "09:00") -> str:
    return f"{day}T{hhmm}:00+01:00" if day < "2026-03-29" else f"{day}T{hhmm}:00+02:00"


def _pathway(prog: Programme, reference: str, starts: list[str], who: list[str | None]) -> dict[str, Any]:
    return {
        "service_id": prog.service_id,
        "staff_id": prog.staff_id,
        "family": family(reference),
        "sessions": [
            {"start": start, "attendees": attendees} for start, attendees in zip(starts, who, strict=True)
        ],
    }


def _events(app: InProcess, event_type: str, at_least: int = 0) -> list[dict[str, Any]]:
    """The feed's events of a type, once it shows ``at_least`` of them (on PostgreSQL the feed waits
    for the transactions in flight on the server, any database's, before it shows later ones)."""
    deadline = time.monotonic() + 30
    while True:
        response = app.client.get("/v1/events", params={"type": event_type, "limit": 500})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        if len(items) >= at_least or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def _texts(app: InProcess) -> list[str]:
    """The bodies of the texts the dispatcher sends now (and forgets them)."""
    app.dispatch()
    bodies = [message.body for message in app.sender.outbox]
    app.sender.outbox.clear()
    return bodies


def _feed(app: InProcess, staff_id: str, privacy: str) -> str:
    """A staff feed of that privacy, read now (its folded lines unfolded)."""
    feed = created(app.client.post(f"/v1/staff/{staff_id}/feeds", json={"privacy": privacy}))
    response = app.client.get(feed["url"].removeprefix(app.public_url))
    assert response.status_code == 200, response.text
    return response.text.replace("\r\n ", "")


def _appointments(app: InProcess, reference: str) -> list[dict[str, Any]]:
    response = app.client.get("/v1/appointments", params={"family_reference": reference})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_pathway_is_booked_whole_changed_session_by_session_and_closed(app: InProcess) -> None:
    client = app.client
    prog = programme(client, weekday=3, start="09:00", end="12:00")
    body = _pathway(prog, "PRE-2026-101", [_at(day) for day in WEEKS[:3]], ["parents", "child", "family"])
    response = client.post("/v1/pathways", json=body, headers={"Idempotency-Key": "pathway-101"})
    booked = created(response)
    assert booked["status"] == "active"
    assert [item["start"] for item in booked["sessions"]] == [_at(day) for day in WEEKS[:3]]
    assert [item["attendees"] for item in booked["sessions"]] == ["parents", "child", "family"]
    assert (booked["staff_id"], booked["site_id"]) == (prog.staff_id, prog.site_id)
    again = client.post("/v1/pathways", json=body, headers={"Idempotency-Key": "pathway-101"})
    assert again.status_code == 201 and again.json()["id"] == booked["id"]
    second = client.get(f"/v1/appointments/{booked['sessions'][1]['appointment_id']}").json()
    assert (second["pathway_id"], second["attendees"]) == (booked["id"], "child")
    assert len(_appointments(app, "PRE-2026-101")) == 3
    pathway_events = _events(app, "pathway.booked", 1)
    assert [event["data"]["pathway"]["id"] for event in pathway_events] == [booked["id"]]
    assert "phone" not in pathway_events[0]["data"]["pathway"]["family"]
    sessions_events = _events(app, "appointment.booked", 3)
    assert {event["data"]["appointment"]["pathway_id"] for event in sessions_events} == {booked["id"]}

    feeds = {privacy: _feed(app, prog.staff_id, privacy) for privacy in ("full", "standard", "busy")}
    assert (
        "Séance 1/3" in feeds["standard"]
        and "Séance 2/3" in feeds["standard"]
        and "Séance 3/3" in feeds["full"]
    )
    assert "Séance" not in feeds["busy"]
    assert "Attendus : l'enfant" in feeds["full"]
    assert "Attendus" not in feeds["standard"] and "enfant" not in feeds["standard"]
    texts = _texts(app)
    assert len(texts) == 1, texts  # one confirmation for the whole pathway, no per-session one
    assert texts[0].startswith(
        "Rendez-vous (Accueil, 1 rue de la Paix) : mercredi 11 mars à 9h00 (parents) ; "
        "mercredi 18 mars à 9h00 (enfant) ; mercredi 25 mars à 9h00 (parents et enfant)."
    )
    assert f"{app.public_url}/r/" in texts[0]

    added = client.post(
        f"/v1/pathways/{booked['id']}/sessions", json={"start": _at(WEEKS[3]), "attendees": "family"}
    )
    assert created(added)["sessions"][3]["start"] == _at(WEEKS[3])
    assert [text.split(" :")[0] for text in _texts(app)] == ["Rendez-vous le mercredi 1 avril à 9h00"]

    second_id = booked["sessions"][1]["appointment_id"]
    assert client.post(f"/v1/appointments/{second_id}/cancel", json={}).status_code == 200
    texts = _texts(app)  # the family heard of it through the pathway's confirmation
    assert [text.split(" (")[0] for text in texts] == ["Votre rendez-vous du mercredi 18 mars à 9h00"]
    still = client.get(f"/v1/pathways/{booked['id']}").json()
    assert still["status"] == "active"
    assert [item["status"] for item in still["sessions"]] == ["booked", "cancelled", "booked", "booked"]

    closed = client.post(f"/v1/pathways/{booked['id']}/close", json={"reason": "réorientation CMPP"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert [item["status"] for item in closed.json()["sessions"]] == ["cancelled"] * 4
    texts = _texts(app)
    assert len(texts) == 1, texts
    assert texts[0].startswith(
        "Vos rendez-vous (Accueil, 1 rue de la Paix) sont annulés : mercredi 11 mars à "
        "9h00 (parents) ; mercredi 25 mars à 9h00 (parents et enfant) ; mercredi 1 avril"
    )
    assert client.post(f"/v1/pathways/{booked['id']}/close", json={}).json()["status"] == "closed"
    assert len(_events(app, "pathway.closed", 1)) == 1
    refused = client.post(f"/v1/pathways/{booked['id']}/sessions", json={"start": _at("2026-04-08")})
    assert (refused.status_code, refused.json()["code"]) == (409, "pathway-closed")
    assert _texts(app) == []


def test_a_refused_session_leaves_nothing_and_names_the_next_free_start(app: InProcess) -> None:
    client = app.client
    prog = programme(client, weekday=3, start="09:00", end="11:00")
    created(
        client.post(
            "/v1/appointments",
            json={
                "service_id": prog.service_id,
                "staff_id": prog.staff_id,
                "start": _at(WEEKS[2]),
                "family": family("PRE-2026-200"),
            },
        )
    )
    _texts(app)
    before = len(_events(app, "appointment.booked", 1))
    body = _pathway(prog, "PRE-2026-201", [_at(day) for day in WEEKS[:3]], ["parents", None, "family"])
    refused = client.post("/v1/pathways", json=body)
    assert refused.status_code == 409 and refused.headers["content-type"].startswith(PROBLEM)
    problem = refused.json()
    assert (problem["code"], problem["failed_session"], problem["next_available"]) == (
        "slot-unavailable",
        2,
        _at(WEEKS[2], "10:00"),
    )
    assert _appointments(app, "PRE-2026-201") == []
    assert _texts(app) == []

    body["sessions"][2]["start"] = problem["next_available"]
    fine = created(client.post("/v1/pathways", json=body))
    # The refused attempt left no event: the feed shows only what the booking that followed recorded.
    assert [event["data"]["pathway"]["id"] for event in _events(app, "pathway.booked", 1)] == [fine["id"]]
    assert len(_events(app, "appointment.booked", before + 3)) == before + 3
    listed = client.get(
        "/v1/pathways", params={"family_reference": "PRE-2026-201", "status": "active"}
    ).json()
    assert [item["id"] for item in listed["items"]] == [fine["id"]]
    assert listed["items"][0]["family"]["phone"].startswith("+33 6")
    assert "•" in listed["items"][0]["family"]["phone"]
    elsewhere = programme(client, weekday=3, start="09:00", end="11:00")
    busy = client.post(
        "/v1/pathways",
        json=_pathway(
            elsewhere, "PRE-2026-201", [_at(WEEKS[2], "10:00"), _at("2026-04-08", "10:00")], [None, None]
        ),
    )
    assert busy.status_code == 409
    assert (busy.json()["code"], busy.json()["failed_session"], busy.json()["next_available"]) == (
        "family-busy",
        0,
        _at(WEEKS[3], "09:00"),
    )
    unordered = client.post(
        "/v1/pathways", json=_pathway(prog, "PRE-2026-202", [_at(WEEKS[1]), _at(WEEKS[0])], [None, None])
    )
    assert (unordered.status_code, unordered.json()["code"]) == (422, "validation-error")

    app.clock.advance(minutes=1)  # listed oldest first
    other = created(
        client.post("/v1/pathways", json=_pathway(elsewhere, "PRE-2026-203", [_at(WEEKS[0])], [None]))
    )
    first_page = client.get("/v1/pathways", params={"limit": 1}).json()
    second_page = client.get("/v1/pathways", params={"limit": 1, "cursor": first_page["next_cursor"]}).json()
    assert [item["id"] for item in first_page["items"] + second_page["items"]] == [fine["id"], other["id"]]
    assert second_page["next_cursor"] is None

    app.clock.set(datetime(2026, 4, 1, 12, 0, tzinfo=UTC))
    assert client.get(f"/v1/pathways/{fine['id']}").json()["status"] == "completed"
    done = client.get("/v1/pathways", params={"status": "completed"}).json()["items"]
    assert [item["id"] for item in done] == [fine["id"], other["id"]]
    assert client.get("/v1/pathways", params={"status": "active"}).json()["items"] == []
    assert client.get("/v1/pathways/nope").status_code == 404


def test_the_family_page_shows_the_whole_pathway_and_cancelling_its_last_session_closes_it(
    app: InProcess,
) -> None:
    client = app.client
    prog = programme(client, weekday=3, start="09:00", end="12:00")
    booked = created(
        client.post(
            "/v1/pathways",
            json=_pathway(
                prog, "PRE-2026-301", [_at(WEEKS[0]), _at(WEEKS[1], "10:00")], ["parents", "child"]
            ),
        )
    )
    first, second = (item["appointment_id"] for item in booked["sessions"])
    (text,) = _texts(app)
    page_path = "/r/" + text.rsplit("/r/", 1)[1]
    page = client.get(page_path)
    assert page.status_code == 200
    html = page.text
    for words in (
        "Tous vos rendez-vous",
        "Rendez-vous 1 sur 2",
        "Rendez-vous 2 sur 2",
        "(Ce rendez-vous)",
        "Qui vient : les parents",
        "Qui vient : l&#39;enfant",
        "Voir ce rendez-vous",
    ):
        assert words in html, words
    forms = dict(
        re.findall(r'action="(/r/\w+/confirm)">\s*<input type="hidden" name="csrf" value="(\w+)"', html)
    )
    assert len(forms) == 2 and f"{page_path}/confirm" in forms
    (other_confirm,) = [action for action in forms if action != f"{page_path}/confirm"]
    other_path = other_confirm.removesuffix("/confirm")
    assert (
        client.post(other_confirm, data={"csrf": forms[other_confirm]}, follow_redirects=False).status_code
        == 303
    )
    assert client.get(f"/v1/appointments/{second}").json()["status"] == "confirmed"

    own_key = forms[f"{page_path}/confirm"]
    assert (
        client.post(f"{page_path}/cancel", data={"csrf": own_key}, follow_redirects=False).status_code == 303
    )
    assert client.get(f"/v1/pathways/{booked['id']}").json()["status"] == "active"
    assert [text.split(" (")[0] for text in _texts(app)] == ["Votre rendez-vous du mercredi 11 mars à 9h00"]

    other_key = forms[other_confirm]
    assert (
        client.post(f"{other_path}/cancel", data={"csrf": other_key}, follow_redirects=False).status_code
        == 303
    )
    closed = client.get(f"/v1/pathways/{booked['id']}").json()
    assert (closed["status"], [item["status"] for item in closed["sessions"]]) == (
        "closed",
        ["cancelled", "cancelled"],
    )
    (event,) = _events(app, "pathway.closed", 1)
    assert event["actor"]["kind"] == "family"
    assert [text.split(" (")[0] for text in _texts(app)] == ["Votre rendez-vous du mercredi 18 mars à 10h00"]
    cancelled_page = client.get(page_path).text  # the first session's page still shows the whole course
    assert "Ce rendez-vous est annulé." in cancelled_page and "Tous vos rendez-vous" in cancelled_page
    assert client.get(f"/v1/appointments/{first}").json()["cancelled_by"] == "family"
