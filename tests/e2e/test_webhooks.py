"""Webhooks through a real server process, on SQLite and PostgreSQL, to a real receiver on 127.0.0.1.

The receiver verifies every signature with the ``standardwebhooks`` package. The server runs with
``CRENEAU_WEBHOOK_ALLOW_PRIVATE=true`` (the receiver is on loopback) and a retry schedule scaled
down to milliseconds; the refusal of private addresses is checked on a server without it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.webhook_receiver import Received, WebhookReceiver
from tests.support.api import at, booking, created, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    """The receiver, for the whole module."""
    with WebhookReceiver() as running:
        yield running


@pytest.fixture(scope="module")
def webhook_server(
    module_database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server that may call loopback, retrying after 5 ms, 0.3 s, 1.8 s… (the schedule times 0.001)."""
    env = {"CRENEAU_WEBHOOK_ALLOW_PRIVATE": "true", "CRENEAU_WEBHOOK_BACKOFF_SCALE": "0.001",
           "CRENEAU_WEBHOOK_INTERVAL_SECONDS": "0.1"}
    with start_server(module_database, tmp_path_factory.mktemp("webhooks"),
                      admin_key=secrets.token_urlsafe(24), extra_env=env) as running:
        yield running


def _register(
    client: httpx.Client, receiver: WebhookReceiver, path: str, events: list[str]
) -> dict[str, Any]:
    endpoint = created(client.post("/v1/webhook-endpoints", json={
        "url": receiver.base_url + path, "events": events, "description": "test receiver"}))
    receiver.secrets[path] = [endpoint["secret"]]
    return endpoint


def _book(client: httpx.Client) -> dict[str, Any]:
    prog = programme(client)
    return created(client.post("/v1/appointments", json=booking(prog, at(upcoming(3), "10:00"))))


def _of(found: list[Received], appointment_id: str) -> list[Received]:
    return [item for item in found if item.body and item.body.get("appointment_id") == appointment_id]


def _wait(
    receiver: WebhookReceiver, path: str, appointment_id: str, count: int, timeout: float = 30
) -> list[Received]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _of(receiver.at(path), appointment_id)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{path} got {len(_of(receiver.at(path), appointment_id))} of {count} deliveries")


def test_a_booking_reaches_the_receiver_signed_and_without_the_phone(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/ok", ["appointment.booked"])
        assert endpoint["disabled"] is False and endpoint["secret"].startswith("whsec_")
        assert "secret" not in client.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()
        appointment = _book(client)
        [delivered] = _wait(receiver, "/ok", appointment["id"], 1)
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
    assert delivered.verified_with == (0,)
    assert delivered.body is not None
    assert delivered.body["type"] == "appointment.booked"
    assert delivered.webhook_id == delivered.body["id"] and delivered.webhook_id.startswith("evt_")
    assert delivered.body["actor"]["kind"] == "api-key"
    assert delivered.body["actor"]["name"] == "CRENEAU_ADMIN_API_KEY"
    assert delivered.body["data"]["appointment"]["family"] == {
        "reference": appointment["family"]["reference"], "language": "fr", "sms_consent": True}
    assert "+33612345678" not in str(delivered.body)
    assert [event["id"] for event in history] == [delivered.webhook_id]


def test_a_cancellation_is_in_the_history_and_the_feed(webhook_server: RunningServer) -> None:
    with webhook_server.client() as client:
        appointment = _book(client)
        cancelled = client.post(f"/v1/appointments/{appointment['id']}/cancel", json={"reason": "malade"})
        assert cancelled.status_code == 200
        history = client.get(f"/v1/appointments/{appointment['id']}/events").json()["items"]
        # Follow the feed as a client does, until both events showed (on PostgreSQL the feed waits
        # for every transaction older than theirs on the server to end, other databases' included).
        feed: list[dict[str, Any]] = []
        cursor = None
        deadline = time.monotonic() + 20
        while len([event for event in feed if event["appointment_id"] == appointment["id"]]) < 2:
            assert time.monotonic() < deadline, "the feed never showed both events"
            params = {"limit": 50, **({"after": cursor} if cursor else {})}
            page = client.get("/v1/events", params=params).json()
            feed += page["items"]
            cursor = page["next_cursor"]
            if not page["items"]:
                time.sleep(0.1)
    assert [event["type"] for event in history] == ["appointment.booked", "appointment.cancelled"]
    assert history[1]["data"]["appointment"]["status"] == "cancelled"
    ours = [event["id"] for event in feed if event["appointment_id"] == appointment["id"]]
    assert ours == [event["id"] for event in history]
    assert len({event["id"] for event in feed}) == len(feed)


def test_a_receiver_failing_three_times_gets_the_same_webhook_id_at_the_fourth_attempt(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    receiver.script("/flaky", [500, 500, 500])
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/flaky", ["appointment.booked"])
        appointment = _book(client)
        attempts = _wait(receiver, "/flaky", appointment["id"], 4)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            log = client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                             params={"status": "succeeded"}).json()["items"]
            if log:
                break
            time.sleep(0.1)
    assert [item.answered for item in attempts] == [500, 500, 500, 200]
    assert {item.webhook_id for item in attempts} == {attempts[0].webhook_id}
    assert all(item.verified_with == (0,) for item in attempts)
    assert [(item["event_id"], item["status"], item["attempts"], item["last_status_code"])
            for item in log] == [(attempts[0].webhook_id, "succeeded", 4, 200)]


def test_410_gone_disables_the_endpoint(webhook_server: RunningServer, receiver: WebhookReceiver) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/gone", ["*"])
        appointment = _book(client)
        _wait(receiver, "/gone", appointment["id"], 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = client.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()
            if found["disabled"]:
                break
            time.sleep(0.1)
        second = _book(client)
        time.sleep(1.0)
    assert (found["disabled"], found["disabled_reason"]) == (True, "gone")
    assert _of(receiver.at("/gone"), second["id"]) == []


def test_after_a_rotation_both_secrets_sign(webhook_server: RunningServer, receiver: WebhookReceiver) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/rotated", ["appointment.booked"])
        rotated = client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        receiver.secrets["/rotated"] = [endpoint["secret"], new_secret]
        appointment = _book(client)
        [delivered] = _wait(receiver, "/rotated", appointment["id"], 1)
    assert new_secret != endpoint["secret"]
    assert len(delivered.signature.split(" ")) == 2
    assert delivered.verified_with == (0, 1)


def test_a_replay_sends_the_events_again_with_their_ids(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/replayed", ["appointment.booked"])
        appointment = _book(client)
        [first] = _wait(receiver, "/replayed", appointment["id"], 1)
        replay = client.post(f"/v1/webhook-endpoints/{endpoint['id']}/replay",
                             json={"since": "2026-01-01T00:00:00+01:00"})
        again = _wait(receiver, "/replayed", appointment["id"], 2)
    assert replay.status_code == 202 and replay.json()["queued"] >= 1
    assert [item.webhook_id for item in again] == [first.webhook_id, first.webhook_id]


def test_an_endpoint_belongs_to_the_key_that_made_it(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as admin:
        endpoint = _register(admin, receiver, "/owned", ["*"])
        other = created(admin.post("/v1/api-keys", json={"name": "partner", "scopes": ["webhooks:write"]}))
    with webhook_server.client(other["key"]) as client:
        assert client.get(f"/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
        assert client.get("/v1/webhook-endpoints").json()["items"] == []
        assert client.get("/v1/events").status_code == 403


@pytest.mark.parametrize("url", [
    "http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest",
    "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://localhost/hook", "ftp://example.com/",
])
def test_private_or_plain_http_urls_are_refused_without_the_setting(server: RunningServer, url: str) -> None:
    with server.client() as client:
        response = client.post("/v1/webhook-endpoints", json={"url": url, "events": ["*"]})
    assert (response.status_code, response.json()["code"]) == (422, "webhook-url-refused")


def test_a_hanging_receiver_does_not_delay_another_endpoint(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as client:
        _register(client, receiver, "/hang", ["appointment.booked"])
        _register(client, receiver, "/prompt", ["appointment.booked"])
        first = _book(client)
        _wait(receiver, "/hang", first["id"], 1)  # now held for 15 s (the service gives up at 10 s)
        second = _book(client)
        booked_at = time.monotonic()
        _wait(receiver, "/prompt", second["id"], 1, timeout=9)
        waited = time.monotonic() - booked_at
    # Blocked behind the hanging delivery, it would arrive only once the service gives up (10 s).
    assert waited < 8.0


def test_metrics_count_deliveries_per_endpoint_id_never_by_url(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/metered?token=receiver-own-secret", ["appointment.booked"])
        appointment = _book(client)
        _wait(receiver, "/metered?token=receiver-own-secret", appointment["id"], 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = client.get("/metrics").text
            if f'creneau_webhook_deliveries{{endpoint_id="{endpoint["id"]}",status="succeeded"}} 1.0' in text:
                break
            time.sleep(0.1)
    assert f'creneau_webhook_deliveries{{endpoint_id="{endpoint["id"]}",status="succeeded"}} 1.0' in text
    assert f'creneau_webhook_delivery_attempts{{endpoint_id="{endpoint["id"]}"}} 1.0' in text
    assert 'creneau_webhook_attempts_total{outcome="succeeded"}' in text
    assert "receiver-own-secret" not in text and receiver.base_url not in text
    logged = webhook_server.log()
    assert "receiver-own-secret" not in logged and endpoint["secret"] not in logged


def test_an_endpoint_is_changed_disabled_enabled_retried_and_deleted(
    webhook_server: RunningServer, receiver: WebhookReceiver
) -> None:
    with webhook_server.client() as client:
        endpoint = _register(client, receiver, "/managed", ["appointment.cancelled"])
        url = f"/v1/webhook-endpoints/{endpoint['id']}"
        changed = client.patch(url, json={"events": ["appointment.booked"], "description": "agenda",
                                          "disabled": True})
        assert changed.status_code == 200
        shown = ("events", "description", "disabled", "disabled_reason")
        assert {key: changed.json()[key] for key in shown} == {
            "events": ["appointment.booked"], "description": "agenda", "disabled": True,
            "disabled_reason": "by-owner"}
        quiet = _book(client)
        time.sleep(1.0)
        assert _of(receiver.at("/managed"), quiet["id"]) == []  # disabled: not queued for it
        assert client.patch(url, json={"disabled": False}).json()["disabled"] is False
        heard = [_book(client) for _ in range(2)]
        for appointment in heard:
            _wait(receiver, "/managed", appointment["id"], 1)
        deadline = time.monotonic() + 10  # the receiver heard them; the log is written just after
        while (len(client.get(f"{url}/deliveries", params={"status": "succeeded"}).json()["items"]) < 2
               and time.monotonic() < deadline):
            time.sleep(0.05)
        first_page = client.get(f"{url}/deliveries", params={"limit": 1, "status": "succeeded"}).json()
        second_page = client.get(f"{url}/deliveries", params={"limit": 1, "status": "succeeded",
                                                              "cursor": first_page["next_cursor"]}).json()
        assert client.get(f"{url}/deliveries", params={"status": "failed"}).json()["items"] == []
        delivery = second_page["items"][0]
        assert client.post(f"{url}/deliveries/{delivery['id']}/retry").status_code == 202
        again = _of(receiver.at("/managed"), heard[0]["id"]) + _of(receiver.at("/managed"), heard[1]["id"])
        deadline = time.monotonic() + 10
        while len(again) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            again = [item for appointment in heard
                     for item in _of(receiver.at("/managed"), appointment["id"])]
        assert client.patch(url, json={"url": "ftp://example.com/"}).json()["code"] == "webhook-url-refused"
        assert client.delete(url).status_code == 204
        assert client.get(url).status_code == 404
    assert len(first_page["items"]) == 1 and first_page["next_cursor"] is not None
    assert {first_page["items"][0]["event_id"], delivery["event_id"]} == {item.webhook_id for item in again}
    assert [item.webhook_id for item in again].count(delivery["event_id"]) == 2
