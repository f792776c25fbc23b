"""A family moves its booked appointment from its page: the next free times of the same service with
the same worker at the same site, not within the service's minimum notice, twice at most; the move
texts the family and tells the partner ``appointment.rescheduled`` by the family."""

from __future__ import annotations

import re
from datetime import date

from tests.api.conftest import InProcess
from tests.support.api import at, booking, created, programme

CHOICE = re.compile(r'name="start" value="([^"]+)"')
FORM_KEY = re.compile(r'name="csrf" value="([0-9a-f]+)"')
LINK = re.compile(r"/r/[0-9A-Za-z]{12}\b")
WEDNESDAY = date(2026, 3, 11)  # the clock starts on Monday 2 March 2026


def _link(app: InProcess, phone: str) -> str:
    app.dispatch()
    texts = [message.body for message in app.sender.outbox if message.to == phone]
    found = LINK.search(texts[-1])
    assert found is not None, texts
    return found.group(0)


def _choices(app: InProcess, path: str) -> tuple[list[str], str]:
    page = app.client.get(path, headers={"Authorization": ""})
    assert page.status_code == 200
    key = FORM_KEY.search(page.text)
    return CHOICE.findall(page.text), key.group(1) if key else ""


def test_a_family_moves_its_appointment_twice_then_no_more(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00", min_notice=24 * 60)
    first = at(WEDNESDAY, "09:00")
    body = booking(prog, first, staff_id=prog.staff_id)
    body["family"]["phone"] = "+33612340001"
    appointment = created(app.client.post("/v1/appointments", json=body))
    path = _link(app, "+33612340001")
    sent_before = len(app.sender.outbox)

    offered, key = _choices(app, path)
    # Same worker, same site, the next free times; the appointment's own time is not offered.
    earlier = date(2026, 3, 4)
    assert offered == [at(earlier, "09:00"), at(earlier, "10:00"), at(earlier, "11:00"),
                       at(WEDNESDAY, "10:00")]
    moved = app.client.post(f"{path}/rebook", data={"csrf": key, "start": offered[1]},
                            follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, path)
    now = app.client.get(f"/v1/appointments/{appointment['id']}").json()
    assert (now["start"], now["staff_id"], now["site_id"]) == (offered[1], prog.staff_id, prog.site_id)
    app.dispatch()
    change = [m.body for m in app.sender.outbox[sent_before:] if m.to == "+33612340001"]
    assert len([body for body in change if "déplacé au mercredi 4 mars à 10h00" in body]) == 1, change
    history = app.client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    rescheduled = [item for item in history if item["type"] == "appointment.rescheduled"]
    assert [item["actor"]["kind"] for item in rescheduled] == ["family"]
    assert rescheduled[0]["data"]["previous"]["start"] == first

    offered, key = _choices(app, path)
    assert first in offered
    again = app.client.post(f"{path}/rebook", data={"csrf": key, "start": first}, follow_redirects=False)
    assert again.status_code == 303
    assert app.client.get(f"/v1/appointments/{appointment['id']}").json()["start"] == first

    # Twice at most: the page offers nothing more, and a forged choice moves nothing.
    offered, key = _choices(app, path)
    assert offered == []
    app.client.post(f"{path}/rebook", data={"csrf": key, "start": at(WEDNESDAY, "11:00")},
                    follow_redirects=False)
    assert app.client.get(f"/v1/appointments/{appointment['id']}").json()["start"] == first


def test_no_move_within_the_services_minimum_notice(app: InProcess) -> None:
    prog = programme(app.client, weekday=3, start="09:00", end="12:00", min_notice=24 * 60)
    body = booking(prog, at(WEDNESDAY, "09:00"), staff_id=prog.staff_id)
    body["family"]["phone"] = "+33612340002"
    appointment = created(app.client.post("/v1/appointments", json=body))
    path = _link(app, "+33612340002")
    assert len(_choices(app, path)[0]) == 4
    app.clock.set(app.clock.now().replace(day=10, hour=9))  # 23 hours before (08:00 UTC Wednesday)
    offered, key = _choices(app, path)
    assert offered == []
    app.client.post(f"{path}/rebook", data={"csrf": key, "start": at(WEDNESDAY, "10:00")},
                    follow_redirects=False)
    assert app.client.get(f"/v1/appointments/{appointment['id']}").json()["start"] == at(WEDNESDAY, "09:00")
