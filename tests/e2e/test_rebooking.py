"""After a closure cancelled its appointment, the family chooses another time on its page: the same
service, with the same worker at the same site, through a real server texting via the fake Twilio."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import at, created, programme, upcoming
from tests.support.family_page import LINK, book_and_read_link, form_key
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
CHOICE = re.compile(r'name="start" value="([^"]+)"')
WAIT_SECONDS = 30.0


def _texts_to(fake: FakeTwilio, number: str) -> list[str]:
    return [str(message["body"]) for message in fake.messages if message["to"] == number]


def _wait_for_texts(fake: FakeTwilio, number: str, count: int) -> list[str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = _texts_to(fake, number)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} texts expected, {len(_texts_to(fake, number))} arrived")


def test_a_family_whose_school_closed_chooses_another_time_with_the_same_worker(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = programme(client, start="09:00", end="11:00")
        strike_day = upcoming(3, weeks_ahead=2)
        booked = book_and_read_link(client, fake_twilio, prog, "09:00", weeks=2)
        number = next(str(m["to"]) for m in fake_twilio.messages if m["body"] == booked.sms)
        day = {"start": at(strike_day, "00:00"), "end": at(strike_day + timedelta(days=1), "00:00")}
        created(client.post("/v1/closures", json={"site_id": prog.site_id, **day, "cancel_affected": True}))
        notice = _wait_for_texts(fake_twilio, number, 2)[1]
        link = LINK.search(notice)
        assert link is not None and link.group(0) == booked.link

    with httpx.Client(base_url=sms_server.base_url, timeout=30) as phone:
        page = phone.get(booked.path)
        assert page.status_code == 200
        offered = CHOICE.findall(page.text)
        # The next four free times of the same worker at the same school (Wednesdays, 09:00 and
        # 10:00), in order, the strike day left out.
        assert len(offered) == 4 and offered == sorted(offered)
        wednesdays = [upcoming(3, weeks_ahead=0) + timedelta(weeks=n) for n in range(6)]
        possible = {at(day, hhmm) for day in wednesdays if day != strike_day for hhmm in ("09:00", "10:00")}
        assert set(offered) <= possible
        chosen_start = offered[-1]
        choice = {"csrf": form_key(page.text), "start": chosen_start}
        chosen = phone.post(f"{booked.path}/rebook", data=choice)
        assert chosen.status_code == 303
        new_page = chosen.headers["location"]
        assert new_page.startswith("/r/") and new_page != booked.path
        assert phone.get(new_page).status_code == 200
        # Once only: the old page offers nothing more, and choosing again leads to the same appointment.
        assert CHOICE.findall(phone.get(booked.path).text) == []
        again = phone.post(f"{booked.path}/rebook", data={"csrf": form_key(page.text), "start": offered[0]})
        assert (again.status_code, again.headers["location"]) == (303, new_page)
        refused = phone.post(f"{booked.path}/rebook", data={"csrf": "0" * 32, "start": offered[0]})
        assert refused.status_code == 403

    with sms_server.client() as client:
        found = client.get("/v1/appointments", params={"staff_id": prog.staff_id, "status": "booked"}).json()
        rebooked = [item for item in found["items"] if item["family"]["reference"] ==
                    booked.appointment["family"]["reference"]]
        assert [(item["start"], item["site_id"], item["staff_id"]) for item in rebooked] == [
            (chosen_start, prog.site_id, prog.staff_id)]
        confirmation = _wait_for_texts(fake_twilio, number, 3)[2]
        assert confirmation.startswith("Rendez-vous le ")
