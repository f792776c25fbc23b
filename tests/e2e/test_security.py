"""Nothing personal or secret in the logs: a whole scenario against a real server, then its output searched.

The scenario books with phone numbers (national and international forms) and family
references, sends SMS through the fake Twilio with status callbacks and a reply, creates,
fetches and revokes feeds and API keys, and sends bad requests. Afterwards, no phone number,
reference, token or key may appear anywhere in what the server printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from scheduler.api import auth
from tests.fakes.fake_twilio import FakeTwilio, send_status_callback, twilio_signature
from tests.support.api import at, booking, created, family, programme, unique, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

WAIT_SECONDS = 30.0
FAMILY_LINK = re.compile(r"/r/([A-Za-z0-9]+)")


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _mobile() -> dict[str, str]:
    """A random mobile in every form it may be written in."""
    digits = f"{secrets.randbelow(10**6):06d}"
    return {"national": f"06 12 {digits[:2]} {digits[2:4]} {digits[4:]}", "compact": f"0612{digits}",
            "e164": f"+33612{digits}", "bare": f"612{digits}"}


class Secrets:
    """Everything the scenario handed the server that must never come back in its output."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def phone(self) -> dict[str, str]:
        forms = _mobile()
        self.values.update(forms.values())
        return forms

    def add(self, *values: str) -> None:
        self.values.update(values)


def _scenario(server: RunningServer, fake: FakeTwilio, hidden: Secrets) -> None:
    hidden.add(server.admin_key, fake.auth_token)
    with server.client() as client:
        prog = programme(client)
        interpreter_phone = hidden.phone()
        interpreter = created(client.post("/v1/interpreters", json={
            "name": "Interprète", "languages": ["wo"], "phone": interpreter_phone["national"]}))
        created(client.post("/v1/availability-rules", json={
            "interpreter_id": interpreter["id"], "weekday": 3, "start_time": "09:00", "end_time": "12:00",
            "valid_from": "2026-01-01"}))
        booked = []
        for hhmm, form, extra in (
            ("09:00", "national", {}),
            ("10:00", "e164", {"interpreter_language": "wo"}),
            ("11:00", "compact", {}),
        ):
            phone, reference = hidden.phone(), unique("PRE-2026")
            hidden.add(reference)
            body = booking(
                prog,
                at(upcoming(3, weeks_ahead=3), hhmm),
                family=family(reference, phone=phone[form], language="wo" if extra else "fr"),
                **extra,
            )
            booked.append((created(client.post("/v1/appointments", json=body)), phone))
        _sms_round_trip(server, fake, client, booked)
        _family_pages(server, fake, hidden)
        _feeds(server, client, prog.staff_id, prog.site_id, hidden)
        _keys(server, client, hidden)
        _bad_requests(server, client, prog, hidden)
        client.post(f"/v1/appointments/{booked[2][0]['id']}/cancel", json={"reason": "absent"})


def _sms_round_trip(server: RunningServer, fake: FakeTwilio, client: httpx.Client,
                    booked: list[tuple[dict[str, Any], dict[str, str]]]) -> None:
    for appointment, phone in booked:
        sent = _wait_for(lambda number=phone["e164"]: [m for m in fake.messages if m["to"] == number],
                         "a confirmation")[0]
        messages = client.get(f"/v1/appointments/{appointment['id']}/messages").json()["items"]
        ref = next(m["id"] for m in messages if m["kind"] == "booked" and m["recipient"] == "family")
        url = f"{server.base_url}/webhooks/twilio/status?ref={ref}"
        for status in ("sent", "delivered"):
            assert send_status_callback(url, {"MessageSid": sent["sid"], "MessageStatus": status,
                                              "To": phone["e164"]}, fake.auth_token) == 204
    phone = booked[0][1]
    url = f"{server.base_url}/webhooks/twilio/inbound"
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "From": phone["e164"],
        "To": "CRENEAU",
        "Body": "OUI",
    }
    reply = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature(url, params, fake.auth_token)}
    )
    assert reply.status_code == 200
    assert client.get(f"/v1/appointments/{booked[0][0]['id']}").json()["status"] == "confirmed"


def _family_link_tokens(fake: FakeTwilio) -> set[str]:
    """The family page tokens of every link the server texted (read from what Twilio received)."""
    return {token for message in fake.messages for token in FAMILY_LINK.findall(message["body"])}


def _family_pages(server: RunningServer, fake: FakeTwilio, hidden: Secrets) -> None:
    tokens = _family_link_tokens(fake)
    assert len(tokens) >= 2, "the scenario texted no family page link"
    hidden.add(*tokens)
    for token in tokens:  # each page, its cancel form, and a token that does not exist
        assert httpx.get(f"{server.base_url}/r/{token}").status_code == 200
        assert httpx.get(f"{server.base_url}/r/{token}/cancel").status_code == 200
    unknown = "Zz9" + secrets.token_hex(5)[:9]
    hidden.add(unknown)
    assert httpx.get(f"{server.base_url}/r/{unknown}").status_code == 404


def _feeds(server: RunningServer, client: httpx.Client, staff_id: str, site_id: str, hidden: Secrets) -> None:
    staff_feed = created(client.post(f"/v1/staff/{staff_id}/feeds", json={}))
    site_feed = created(client.post(f"/v1/sites/{site_id}/feeds", json={}))
    hidden.add(staff_feed["token"], site_feed["token"])
    for feed in (staff_feed, site_feed):
        assert httpx.get(feed["url"]).status_code == 200
    assert client.delete(f"/v1/feeds/{site_feed['token']}").status_code == 204
    assert httpx.get(site_feed["url"]).status_code == 404


def _keys(server: RunningServer, client: httpx.Client, hidden: Secrets) -> None:
    made = created(client.post("/v1/api-keys", json={"name": "partner", "scopes": ["slots:read"]}))
    hidden.add(made["key"])
    with server.client(made["key"]) as partner:
        assert partner.get("/v1/availability-rules").status_code == 403
        assert client.delete(f"/v1/api-keys/{made['id']}").status_code == 204
        assert _wait_for(lambda: partner.get("/v1/sites").status_code == 401, "the revocation")


def _bad_requests(server: RunningServer, client: httpx.Client, prog: Any, hidden: Secrets) -> None:
    wrong_key = "crn_" + secrets.token_urlsafe(32)
    hidden.add(wrong_key)
    assert (
        httpx.get(server.base_url + "/v1/sites", headers={"Authorization": f"Bearer {wrong_key}"}).status_code
        == 401
    )
    phone = hidden.phone()
    bad = booking(prog, at(upcoming(3), "09:00"), family=family(phone=phone["national"][:8]))
    assert client.post("/v1/appointments", json=bad).status_code == 422
    unparsable = hidden.phone()
    assert client.post("/v1/appointments", content=f'{{"phone": "{unparsable["e164"]}"',
                       headers={"Content-Type": "application/json"}).status_code == 422
    # A caller's request id that is a phone number is replaced, never echoed or logged.
    echoed = client.get("/v1/sites", headers={"X-Request-ID": phone["compact"]})
    assert echoed.headers["X-Request-ID"] != phone["compact"]
    assert client.get("/v1/sites", headers={"X-Request-ID": "trace-42"}).headers["X-Request-ID"] == "trace-42"


@pytest.fixture(scope="module")
def scenario_log(
    module_database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Secrets]:
    """The server's whole output after the scenario and its shutdown, and what it must not contain."""
    hidden = Secrets()
    with FakeTwilio() as fake:
        env = {"CRENEAU_SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid,
               "TWILIO_AUTH_TOKEN": fake.auth_token, "CRENEAU_TWILIO_SENDER": "CRENEAU",
               "CRENEAU_TWILIO_API_BASE": fake.base_url, "CRENEAU_DISPATCH_INTERVAL_SECONDS": "0.3",
               "CRENEAU_QUIET_HOURS": "", "CRENEAU_RATE_LIMIT": "10000/minute",
               "CRENEAU_ACCESS_LOG": "true"}
        with start_server(module_database, tmp_path_factory.mktemp("security"),
                          admin_key=secrets.token_urlsafe(24), extra_env=env) as server:
            _scenario(server, fake, hidden)
            # Texts sent after the family page visits (the cancellation notice) carry links too.
            hidden.add(*_family_link_tokens(fake))
            hidden.add(*_stored_key_hashes(module_database))
        return server.log(), hidden


def _stored_key_hashes(database: DatabaseHandle) -> list[str]:
    return [row[0] for row in asyncio.run(_query(database.url, "SELECT key_hash FROM api_key"))]


async def _query(url: str, sql: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())
    finally:
        await engine.dispose()


def test_no_phone_reference_token_or_key_in_the_logs(scenario_log: tuple[str, Secrets]) -> None:
    output, hidden = scenario_log
    assert len(hidden.values) > 20 and "request_id" in output
    leaked = sorted(value for value in hidden.values if value in output)
    assert leaked == [], f"{len(leaked)} secret values found in the server output"


def test_logs_are_json_lines_with_request_ids(scenario_log: tuple[str, Secrets]) -> None:
    output, _ = scenario_log
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    requests = [record for record in records if record["logger"] == "creneau.access"]
    assert len(requests) > 30 and all(record["request_id"] for record in requests)
    assert any(record["message"] == "GET /feeds/{filename} 200" for record in requests)
    assert not any(
        record["logger"].startswith("apscheduler") and record["level"] == "INFO" for record in records
    )


def test_keys_are_stored_hashed(server: RunningServer) -> None:
    with server.client() as client:
        made = created(client.post("/v1/api-keys", json={"name": "stored", "scopes": ["slots:read"]}))
    rows = asyncio.run(_query(server.database.url, "SELECT * FROM api_key"))
    assert not any(made["key"] in str(tuple(row)) for row in rows)
    digest = hashlib.sha256(made["key"].encode()).hexdigest()
    assert [row for row in rows if digest in tuple(row)], "the key's SHA-256 is what is stored"


def test_keys_are_compared_in_constant_time() -> None:
    # The one comparison against a secret held in memory (the settings' admin key); stored
    # keys are found by their hash's index, which a timing probe cannot exploit.
    assert "hmac.compare_digest(" in inspect.getsource(auth.KeyRing.principal)
