"""The smaller findings of the security review, each through a real server texting through the fake Twilio:
numbers however written are masked in feed notes, a label GSM-7 cannot spell still reaches the text,
a deleted staff member's feed is gone, and lists show phones masked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import at, booking, created, family, programme, unique, upcoming
from tests.support.family_page import unique_mobile
from tests.support.ical import unfolded
from tests.support.server import RunningServer

WAIT_SECONDS = 30.0
# One number (06 98 76 54 32) as staff may paste it into a note.
WRITTEN = ("06\u00a098\u00a076\u00a054\u00a032", "06/98/76/54/32", "06 - 98 - 76 - 54 - 32", "06_98_76_54_32")


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _bodies_to(fake: FakeTwilio, number: str) -> list[str]:
    return [str(message["body"]) for message in fake.messages if message["to"] == number]


def _feed(client: httpx.Client, staff_id: str, privacy: str = "full") -> str:
    url: str = created(client.post(f"/v1/staff/{staff_id}/feeds", json={"privacy": privacy}))["url"]
    return url


def test_numbers_written_with_any_separator_are_masked_in_full_feed_notes(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        note = "Rappeler : " + " ; ".join(WRITTEN)
        created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "09:00"), note=note)))
        url = _feed(client, prog.staff_id)
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200
    text = unfolded(response.content)
    assert "Rappeler" in text
    leaked = [written for written in WRITTEN if written in text or written.replace("\u00a0", " ") in text]
    # The note's own line of the description (an escaped newline ends it; the staff link follows).
    note_line = re.split(r"\\n|\r|\n", text.split("Rappeler", 1)[1], maxsplit=1)[0]
    assert leaked == [] and "[numéro masqué]" in note_line and "98" not in note_line


def test_a_label_gsm7_cannot_spell_still_says_where_in_french(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        for label in ("🏥🏫", "مركز الأسرة"):
            prog = programme(client)
            assert client.patch(f"/v1/sites/{prog.site_id}", json={"public_label": label}).status_code == 200
            national, e164 = unique_mobile()
            created(client.post("/v1/appointments", json=booking(
                prog, at(upcoming(3), "10:00"), family=family(phone=national))))
            text = _wait_for(lambda number=e164: _bodies_to(fake_twilio, number), "the text")[0]
            assert label in text, text


def test_a_deleted_staff_members_feed_is_gone(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        staff = created(client.post("/v1/staff", json={"name": unique("staff"), "role": "psychologist"}))
        url = _feed(client, staff["id"], "busy")
        assert httpx.get(url, timeout=30).status_code == 200
        assert client.delete(f"/v1/staff/{staff['id']}").status_code == 204
    assert httpx.get(url, timeout=30).status_code == 404


def test_lists_show_the_phone_masked_and_one_appointment_in_clear(sms_server: RunningServer) -> None:
    with sms_server.client() as client:
        prog = programme(client)
        national, e164 = unique_mobile()
        booked = created(client.post("/v1/appointments", json=booking(
            prog, at(upcoming(3), "11:00"), family=family(phone=national))))
        listed = client.get("/v1/appointments", params={"staff_id": prog.staff_id})
        assert listed.status_code == 200
        assert e164 not in listed.text and e164[3:] not in listed.text
        [item] = listed.json()["items"]
        assert item["family"]["phone"].startswith("+33 6") and item["family"]["phone"].endswith(e164[-2:])
        assert client.get(f"/v1/appointments/{booked['id']}").json()["family"]["phone"] == e164
