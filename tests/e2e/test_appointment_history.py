"""Who changed an appointment, through a real server texting via the fake Twilio and calling a real
webhook receiver on 127.0.0.1 (signatures checked with ``standardwebhooks``), on both databases.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.webhook_receiver import Received, WebhookReceiver
from tests.support.api import at, booking, created, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.family_page import book_and_read_link, form_key, public_programme, texting_server
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
WEBHOOKS = {"CRENEAU_WEBHOOK_ALLOW_PRIVATE": "true", "CRENEAU_WEBHOOK_BACKOFF_SCALE": "0.001",
            "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "0.1"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """Texts go out (so the family gets its page link) and webhooks may call loopback."""
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("history"),
                        CRENEAU_SECRET_KEY=secrets.token_urlsafe(32), **WEBHOOKS) as running:
        yield running


def _register(client: httpx.Client, receiver: WebhookReceiver, path: str, events: list[str]) -> None:
    endpoint = created(client.post("/v1/webhook-endpoints", json={"url": receiver.base_url + path,
                                                                  "events": events}))
    receiver.secrets[path] = [endpoint["secret"]]


def _of(found: list[Received], appointment_id: str) -> list[Received]:
    return [item for item in found if item.body and item.body["appointment_id"] == appointment_id]


def _heard(receiver: WebhookReceiver, path: str, appointment_id: str, count: int) -> list[Received]:
    """What the receiver got for the appointment, once it has ``count`` (and a while longer: no more)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(_of(receiver.at(path), appointment_id)) >= count:
            time.sleep(1.0)  # a duplicate would come within the retry schedule's first steps
            return _of(receiver.at(path), appointment_id)
        time.sleep(0.05)
    raise AssertionError(f"{path} got fewer than {count} deliveries")


def test_a_family_cancelling_from_its_page_sends_one_signed_cancelled_event(
    server: RunningServer, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    with server.client() as client:
        _register(client, receiver, "/family", ["appointment.cancelled"])
        booked = book_and_read_link(client, fake_twilio, public_programme(client), "09:00", weeks=2)
    with httpx.Client(base_url=server.base_url, timeout=30) as phone:
        step = phone.get(f"{booked.path}/cancel")
        for _ in range(2):  # the second click changes nothing, and tells nobody
            assert phone.post(f"{booked.path}/cancel", data={"csrf": form_key(step.text)}).status_code == 303
    [delivered] = _heard(receiver, "/family", booked.id, 1)
    with server.client() as client:
        shown = client.get(f"/v1/appointments/{booked.id}").json()
        history = client.get(f"/v1/appointments/{booked.id}/events").json()["items"]
    assert delivered.verified_with == (0,)
    assert delivered.body is not None
    assert delivered.body["type"] == "appointment.cancelled"
    assert delivered.body["actor"] == {"kind": "family", "id": None, "name": None}
    snapshot = delivered.body["data"]["appointment"]
    assert (snapshot["status"], snapshot["cancelled_by"]) == ("cancelled", "family")
    assert "phone" not in snapshot["family"]
    assert booked.appointment["family"]["phone"] not in str(delivered.body)
    assert (shown["status"], shown["cancelled_by"]) == ("cancelled", "family")
    assert shown["cancelled_at"] is not None and shown["updated_at"] == shown["cancelled_at"]
    assert [(event["type"], event["actor"]["kind"]) for event in history] == [
        ("appointment.booked", "api-key"), ("appointment.cancelled", "family")]


def test_a_reschedule_carries_where_it_was_and_who_moved_it(
    server: RunningServer, receiver: WebhookReceiver
) -> None:
    with server.client() as client:
        _register(client, receiver, "/moves", ["appointment.rescheduled"])
        prog = programme(client)
        day = upcoming(3)
        appointment = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        moved = client.post(f"/v1/appointments/{appointment['id']}/reschedule",
                            json={"start": at(day, "11:00")})
        assert moved.status_code == 200, moved.text
    [delivered] = _heard(receiver, "/moves", appointment["id"], 1)
    assert delivered.verified_with == (0,)
    body: dict[str, Any] = delivered.body or {}
    assert body["type"] == "appointment.rescheduled"
    assert body["data"]["previous"] == {"start": at(day, "09:00"), "end": at(day, "10:00"),
                                        "staff_id": prog.staff_id, "site_id": prog.site_id}
    assert (body["data"]["appointment"]["start"], body["data"]["appointment"]["end"]) == (
        at(day, "11:00"), at(day, "12:00"))
    assert body["actor"]["kind"] == "api-key" and body["actor"]["name"] == "CRENEAU_ADMIN_API_KEY"
    assert body["actor"]["id"]
    updated = datetime.fromisoformat(moved.json()["updated_at"])
    assert updated > datetime.fromisoformat(appointment["updated_at"])
