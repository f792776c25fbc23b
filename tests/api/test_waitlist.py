"""The waiting list in-process on a fixed clock (Monday 2 March 2026, 10:00 in Paris): its endpoints,
and a cancelled Wednesday slot offered to the first waiting family, accepted from the SMS link, or
passed to the next family when the offer lapses."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from scheduler.services import waitlist_offers
from tests.api.conftest import InProcess
from tests.support.api import PROBLEM, Programme, at, booking, created, family, programme

WEDNESDAY = date(2026, 3, 11)
LINK = re.compile(r"/r/[0-9A-Za-z]{12}\b")
FORM_KEY = re.compile(r'name="csrf" value="([0-9a-f]+)"')
CHOICE = re.compile(r'name="start" value="([^"]+)"')
THAT_WEDNESDAY = {"earliest": at(WEDNESDAY, "00:00"), "latest": at(WEDNESDAY, "23:00")}


def _round(app: InProcess) -> int:
    services = app.client.app.state.services
    made: int = app.client.blocking_portal.call(partial(waitlist_offers.offer_round, services, sweep=False))
    return made


def _sweep(app: InProcess) -> int:
    services = app.client.app.state.services
    made: int = app.client.blocking_portal.call(partial(waitlist_offers.offer_round, services, sweep=True))
    return made


def _wait(app: InProcess, prog: Programme, phone: str, **extra: Any) -> dict[str, Any]:
    return created(app.client.post("/v1/waitlist", json={
        "service_id": prog.service_id, "family": family(phone=phone), **extra}))


def _texts(app: InProcess, phone: str) -> list[str]:
    return [message.body for message in app.sender.outbox if message.to == phone]


def _full_wednesday(app: InProcess, prog: Programme) -> list[str]:
    return [created(app.client.post("/v1/appointments", json=booking(prog, at(WEDNESDAY, hhmm))))["id"]
            for hhmm in ("09:00", "10:00", "11:00")]


def test_entries_in_order_of_arrival_paged_read_and_taken_off(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00")
    entries = [_wait(app, prog, f"+3361234100{n}") for n in range(3)]
    assert [(entry["status"], entry["position"]) for entry in entries] == [("waiting", n) for n in (1, 2, 3)]
    assert "phone" not in entries[0]["family"]
    first = app.client.get("/v1/waitlist", params={"service_id": prog.service_id, "limit": 2}).json()
    rest = app.client.get("/v1/waitlist", params={"service_id": prog.service_id,
                                                  "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in first["items"] + rest["items"]] == [entry["id"] for entry in entries]
    assert app.client.delete(f"/v1/waitlist/{entries[0]['id']}").status_code == 204
    gone = app.client.get(f"/v1/waitlist/{entries[0]['id']}").json()
    assert (gone["status"], gone["position"]) == ("cancelled", None)
    assert app.client.get(f"/v1/waitlist/{entries[2]['id']}").json()["position"] == 2
    cancelled = app.client.get("/v1/waitlist", params={"status": "cancelled",
                                                       "service_id": prog.service_id}).json()
    assert [item["id"] for item in cancelled["items"]] == [entries[0]["id"]]


def test_bad_entries_are_refused_and_change_nothing(app: InProcess) -> None:
    prog = programme(app.client)
    unknown = app.client.post("/v1/waitlist", json={"service_id": "nope", "family": family()})
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, PROBLEM)
    no_family = app.client.post("/v1/waitlist", json={"service_id": prog.service_id})
    assert no_family.status_code == 422
    backwards = app.client.post("/v1/waitlist", json={
        "service_id": prog.service_id, "family": family(), "earliest": at(WEDNESDAY, "12:00"),
        "latest": at(WEDNESDAY, "09:00")})
    assert backwards.status_code == 422
    assert app.client.get("/v1/waitlist", params={"service_id": prog.service_id}).json()["items"] == []
    assert app.client.get("/v1/waitlist/nope").status_code == 404


def test_a_cancellation_is_offered_to_the_first_family_who_books_it_from_the_link(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00")
    booked = _full_wednesday(app, prog)
    phones = [f"+3361234200{n}" for n in range(3)]
    entries = [_wait(app, prog, phone, **THAT_WEDNESDAY) for phone in phones]
    assert _round(app) == 0  # nothing free before the cancellation
    app.client.post(f"/v1/appointments/{booked[1]}/cancel", json={})
    assert _round(app) == 1
    app.dispatch()
    assert _texts(app, phones[1]) == [] and _texts(app, phones[2]) == []
    [offer] = _texts(app, phones[0])
    assert offer.startswith("Une place s'est libérée le mercredi 11 mars à 10:00")
    link = LINK.search(offer)
    assert link is not None
    entry = app.client.get(f"/v1/waitlist/{entries[0]['id']}").json()
    assert (entry["status"], entry["offers_sent"]) == ("offered", 1)

    page = app.client.get(link.group(0), headers={"Authorization": ""})
    assert page.status_code == 200 and CHOICE.findall(page.text) == [at(WEDNESDAY, "10:00")]
    key = FORM_KEY.search(page.text)
    assert key is not None
    accepted = app.client.post(f"{link.group(0)}/accept", data={"csrf": key.group(1),
                                                                  "start": at(WEDNESDAY, "10:00")},
                               follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/r/")
    entry = app.client.get(f"/v1/waitlist/{entries[0]['id']}").json()
    assert entry["status"] == "booked" and entry["position"] is None
    appointment = app.client.get(f"/v1/appointments/{entry['booked_appointment_id']}").json()
    assert (appointment["start"], appointment["status"]) == (at(WEDNESDAY, "10:00"), "booked")
    history = app.client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    assert [item["type"] for item in history] == ["appointment.booked", "waitlist.claimed"]
    assert history[1]["actor"]["kind"] == "family"
    stats = app.client.get("/v1/stats/appointments", params={"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert (stats["totals"]["waitlist_refills"], stats["totals"]["cancelled"]) == (1, 1)
    report = app.client.post("/v1/reports", json={"from": "2026-03-01", "to": "2026-03-31", "site_ids": None})
    page = report.json()["url"].removeprefix(app.public_url)
    shown = app.client.get(page, headers={"Authorization": ""}).text
    assert re.search(r'<span class="value">1</span> <span class="label">Créneaux libérés repris', shown)
    # The others keep their places, now first and second.
    assert [app.client.get(f"/v1/waitlist/{e['id']}").json()["position"] for e in entries[1:]] == [1, 2]


def test_an_offer_left_unanswered_passes_to_the_next_family(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00")
    booked = _full_wednesday(app, prog)
    phones = [f"+3361234300{n}" for n in range(2)]
    entries = [_wait(app, prog, phone, **THAT_WEDNESDAY) for phone in phones]
    app.client.post(f"/v1/appointments/{booked[0]}/cancel", json={})
    assert _round(app) == 1
    app.dispatch()
    app.clock.advance(minutes=119)
    assert _round(app) == 0
    app.clock.advance(minutes=1)
    assert _round(app) == 1
    app.dispatch()
    assert len(_texts(app, phones[0])) == 1 and len(_texts(app, phones[1])) == 1
    first = app.client.get(f"/v1/waitlist/{entries[0]['id']}").json()
    assert (first["status"], first["offers_ignored"], first["marked"]) == ("waiting", 1, False)
    assert app.client.get(f"/v1/waitlist/{entries[1]['id']}").json()["status"] == "offered"
    # The lapsed link says so, and shows the other free times (none here: the time is offered).
    link = LINK.search(_texts(app, phones[0])[0])
    assert link is not None
    lapsed = app.client.get(link.group(0), headers={"Authorization": ""})
    assert "Cette proposition a expiré" in lapsed.text


def test_a_time_taken_meanwhile_is_said_politely_in_the_familys_language_with_other_times(
    app: InProcess,
) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00")
    booked = _full_wednesday(app, prog)
    phone = "+33612344000"
    entry = created(app.client.post("/v1/waitlist", json={
        "service_id": prog.service_id, "family": family(phone=phone, language="ar"),
        "earliest": at(WEDNESDAY, "00:00"), "latest": at(date(2026, 3, 19), "00:00")}))
    app.client.post(f"/v1/appointments/{booked[2]}/cancel", json={})
    assert _round(app) == 1
    app.dispatch()
    [offer] = _texts(app, phone)
    assert offer.startswith("أصبح موعد متاحًا")
    link = LINK.search(offer)
    assert link is not None
    page = app.client.get(link.group(0), headers={"Authorization": ""}).text
    key = FORM_KEY.search(page)
    assert key is not None and 'dir="rtl"' in page
    # Staff give the time to someone at the desk before the family answers.
    created(app.client.post("/v1/appointments", json=booking(prog, at(WEDNESDAY, "11:00"))))
    late = app.client.post(f"{link.group(0)}/accept", follow_redirects=False,
                           data={"csrf": key.group(1), "start": at(WEDNESDAY, "11:00")})
    assert late.status_code == 200 and "عذرًا، لقد حجزت عائلة أخرى هذا الموعد للتو." in late.text
    others = CHOICE.findall(late.text)
    assert others[:2] == [at(date(2026, 3, 18), "09:00"), at(date(2026, 3, 18), "10:00")]
    assert app.client.get(f"/v1/waitlist/{entry['id']}").json()["status"] == "waiting"
    # One of the other times, from the same page: booked.
    chosen = app.client.post(f"{link.group(0)}/accept", data={"csrf": key.group(1), "start": others[0]},
                             follow_redirects=False)
    assert chosen.status_code == 303
    done = app.client.get(f"/v1/waitlist/{entry['id']}").json()
    assert done["status"] == "booked"
    assert app.client.get(f"/v1/appointments/{done['booked_appointment_id']}").json()["start"] == others[0]
    # The offer's link now shows the appointment it booked.
    assert app.client.get(link.group(0), headers={"Authorization": ""}).text.count('data-state="booked"') == 1


def test_a_family_wanting_an_earlier_time_is_moved_when_it_accepts(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="10:00")
    later = created(app.client.post("/v1/appointments", json=booking(
        prog, at(date(2026, 4, 1), "09:00"), family=family(phone="+33612345000"))))
    soon = created(app.client.post("/v1/appointments", json=booking(prog, at(WEDNESDAY, "09:00"))))
    for day in (date(2026, 3, 4), date(2026, 3, 18), date(2026, 3, 25)):  # the other Wednesdays full
        created(app.client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
    entry = created(app.client.post("/v1/waitlist", json={
        "service_id": prog.service_id, "appointment_id": later["id"]}))
    assert entry["family"]["reference"] == later["family"]["reference"]
    app.client.post(f"/v1/appointments/{soon['id']}/cancel", json={})
    assert _round(app) == 1
    app.dispatch()
    [offer] = [body for body in _texts(app, "+33612345000") if body.startswith("Une place")]
    link = LINK.search(offer)
    assert link is not None
    page = app.client.get(link.group(0), headers={"Authorization": ""}).text
    key = FORM_KEY.search(page)
    assert key is not None
    accepted = app.client.post(f"{link.group(0)}/accept", data={"csrf": key.group(1),
                                                                  "start": at(WEDNESDAY, "09:00")},
                               follow_redirects=False)
    assert accepted.status_code == 303
    moved = app.client.get(f"/v1/appointments/{later['id']}").json()
    assert (moved["start"], moved["status"]) == (at(WEDNESDAY, "09:00"), "booked")
    assert app.client.get(f"/v1/waitlist/{entry['id']}").json()["booked_appointment_id"] == later["id"]
    history = app.client.get(f"/v1/appointments/{later['id']}/events").json()["items"]
    assert [(item["type"], item["actor"]["kind"]) for item in history][-2:] == [
        ("appointment.rescheduled", "family"), ("waitlist.claimed", "family")]


def test_an_extra_opening_is_offered_within_the_offer_hours_only(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="10:00")
    friday = date(2026, 3, 13)
    phone = "+33612346000"
    _wait(app, prog, phone, earliest=at(friday, "00:00"), latest=at(friday, "23:00"))
    app.clock.set(datetime(2026, 3, 2, 19, 30, tzinfo=UTC))  # 20:30 in Paris: after the offer hours
    created(app.client.post("/v1/openings", json={
        "staff_id": prog.staff_id, "site_id": prog.site_id, "service_ids": [prog.service_id],
        "start": at(friday, "14:00"), "end": at(friday, "15:00")}))
    assert _round(app) == 0
    app.clock.set(datetime(2026, 3, 3, 7, 59, tzinfo=UTC))  # 08:59 in Paris
    assert _sweep(app) == 0
    app.clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # 09:00: the sweep offers it
    assert _sweep(app) == 1
    app.dispatch()
    [offer] = _texts(app, phone)
    assert "vendredi 13 mars à 14:00" in offer


def test_a_service_may_let_families_move_to_any_of_its_staff(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="10:00")
    other = created(app.client.post("/v1/staff", json={"name": "Autre", "role": "psychologist"}))
    created(app.client.post("/v1/availability-rules", json={
        "staff_id": other["id"], "site_id": prog.site_id, "service_ids": [prog.service_id], "weekday": 4,
        "start_time": "09:00", "end_time": "10:00", "valid_from": "2026-01-01"}))
    body = booking(prog, at(WEDNESDAY, "09:00"), family=family(phone="+33612347000"))
    appointment = created(app.client.post("/v1/appointments", json=body))
    app.dispatch()
    path = LINK.search(_texts(app, "+33612347000")[0])
    assert path is not None
    thursday = at(date(2026, 3, 5), "09:00")
    own_only = CHOICE.findall(app.client.get(path.group(0), headers={"Authorization": ""}).text)
    assert thursday not in own_only
    allowed = app.client.patch(f"/v1/services/{prog.service_id}", json={"rebook_any_staff": True})
    assert allowed.status_code == 200 and allowed.json()["rebook_any_staff"] is True
    page = app.client.get(path.group(0), headers={"Authorization": ""}).text
    assert thursday in CHOICE.findall(page)
    key = FORM_KEY.search(page)
    assert key is not None
    app.client.post(f"{path.group(0)}/rebook", data={"csrf": key.group(1), "start": thursday},
                    follow_redirects=False)
    moved = app.client.get(f"/v1/appointments/{appointment['id']}").json()
    assert (moved["start"], moved["staff_id"], moved["site_id"]) == (thursday, other["id"], prog.site_id)


def test_with_parallel_offers_two_families_are_offered_the_time_and_the_first_to_accept_books_it(
    app: InProcess,
) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00")
    booked = _full_wednesday(app, prog)
    phones = [f"+3361234500{n}" for n in range(3)]
    entries = [_wait(app, prog, phone, **THAT_WEDNESDAY) for phone in phones]
    app.client.post(f"/v1/appointments/{booked[1]}/cancel", json={})
    services = app.client.app.state.services
    two_at_once = replace(services, settings=services.settings.model_copy(
        update={"waitlist_parallel_offers": 2}))
    made: int = app.client.blocking_portal.call(partial(waitlist_offers.offer_round, two_at_once,
                                                        sweep=False))
    assert made == 2
    app.dispatch()
    assert _texts(app, phones[2]) == []
    pages = []
    for phone in phones[:2]:
        [offer] = _texts(app, phone)
        link = LINK.search(offer)
        assert link is not None
        page = app.client.get(link.group(0), headers={"Authorization": ""}).text
        key = FORM_KEY.search(page)
        assert key is not None and CHOICE.findall(page) == [at(WEDNESDAY, "10:00")]
        pages.append((link.group(0), key.group(1)))
    # The second family answers first: it books the time; the first is told, politely, it is taken.
    ten = at(WEDNESDAY, "10:00")
    second = app.client.post(f"{pages[1][0]}/accept", data={"csrf": pages[1][1], "start": ten},
                             follow_redirects=False)
    assert second.status_code == 303
    first = app.client.post(f"{pages[0][0]}/accept", data={"csrf": pages[0][1], "start": ten},
                            follow_redirects=False)
    assert first.status_code == 200 and "vient d'être pris par une autre famille" in html.unescape(first.text)
    statuses = [app.client.get(f"/v1/waitlist/{entry['id']}").json()["status"] for entry in entries]
    assert statuses[1] == "booked" and statuses[2] == "waiting"
    at_ten = app.client.get("/v1/appointments", params={"site_id": prog.site_id, "status": "booked"}).json()
    assert [item["start"] for item in at_ten["items"]].count(at(WEDNESDAY, "10:00")) == 1
