"""The audit trail: a family's data read and changed through every path, then each access found with
one call to ``GET /v1/audit``; entries are append-only on both databases and purged after the retention."""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import time
from contextlib import closing
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from scheduler.app import create_app
from scheduler.db.engine import Database
from scheduler.services import audit
from scheduler.settings import Settings
from tests.api.conftest import InProcess
from tests.support.api import created, family, programme
from tests.support.databases import DatabaseHandle

REFERENCE = "PRE-2026-014"


def test_every_access_to_a_family_is_on_the_trail(app: InProcess) -> None:
    client = app.client
    prog = programme(client, weekday=3, start="09:00", end="12:00")
    other = created(client.post("/v1/appointments", json={
        "service_id": prog.service_id, "start": "2026-03-04T11:00:00+01:00",
        "family": family("PRE-2026-999", phone="06 11 11 11 11")}))
    booked = created(client.post("/v1/appointments", json={
        "service_id": prog.service_id, "start": "2026-03-04T09:00:00+01:00", "family": family(REFERENCE)}))
    ident = booked["id"]
    app.dispatch()
    link = next(re.search(r"/r/[\w-]+", sms.body) for sms in app.sender.outbox
                if re.search(r"/r/[\w-]+", sms.body) and sms.to == "+33612345678")
    assert link is not None

    for path in ("", "/messages", "/replies", "/events"):
        assert client.get(f"/v1/appointments/{ident}{path}").status_code == 200, path
    assert client.get("/v1/appointments", params={"family_reference": REFERENCE}).status_code == 200
    assert client.get("/v1/appointments").status_code == 200
    _read_the_event_feed_until_it_shows(client, ident)
    assert client.get("/v1/replies").status_code == 200
    assert client.patch(f"/v1/families/{REFERENCE}", json={"phone": "06 98 76 54 32"}).status_code == 200
    assert client.get(link.group(0)).status_code == 200
    feed = created(client.post(f"/v1/staff/{prog.staff_id}/feeds", json={"privacy": "full"}))
    assert client.get(f"/feeds/{feed['token']}.ics").status_code == 200
    assert client.post(f"/v1/appointments/{ident}/reschedule",
                       json={"start": "2026-03-04T10:00:00+01:00"}).status_code == 200
    assert client.post(f"/v1/appointments/{ident}/cancel", json={}).status_code == 200

    trail = client.get("/v1/audit", params={
        "family_reference": REFERENCE, "from": "2026-01-01T00:00:00+01:00",
        "to": "2027-01-01T00:00:00+01:00"})
    assert trail.status_code == 200, trail.text
    items = trail.json()["items"]
    actions = [item["action"] for item in items]
    for expected in ("appointment.book", "appointment.read", "messages.read", "replies.read", "events.read",
                     "appointments.list", "family.phone_changed", "family_page.read",
                     "appointment.reschedule", "appointment.cancel"):
        assert expected in actions, (expected, actions)
    assert actions.count("appointments.list") == 2  # the filtered list and the whole one
    assert "events.list" in actions  # the whole event feed showed its events
    assert all(item["target"]["id"] in (ident, REFERENCE) for item in items)
    api = next(item for item in items if item["action"] == "appointment.read")
    assert api["actor"] == {"kind": "api-key", "id": "settings-admin", "name": "CRENEAU_ADMIN_API_KEY"}
    assert api["ip"] is None  # the test client's address ("testclient") is not an IP; see below
    assert next(item for item in items if item["action"] == "family_page.read")["actor"]["kind"] == "family"
    assert other["id"] not in str(items)

    feeds = client.get("/v1/audit", params={"actor_id": feed_id(client, prog.staff_id)}).json()["items"]
    assert [(item["action"], item["target"]) for item in feeds] == [
        ("feed.read", {"kind": "staff", "id": prog.staff_id})]
    whole = client.get("/v1/audit", params={"appointment_id": ident}).json()["items"]
    first = client.get("/v1/audit", params={"appointment_id": ident, "limit": 2}).json()
    rest = client.get("/v1/audit", params={"appointment_id": ident, "cursor": first["next_cursor"]}).json()
    assert first["items"] + rest["items"] == whole and len(whole) > 2


def _read_the_event_feed_until_it_shows(client: TestClient, appointment_id: str) -> None:  # type: ignore[type-arg]
    """GET /v1/events until the appointment's events are in it.

    On PostgreSQL the feed holds back events newer than the oldest transaction still running on
    the server (``scheduler.db.events.feed_page``), any database's: with other tests beside this
    one on the same server, a first read may show nothing yet, and only a read that shows the
    family's events is an access to its data.
    """
    deadline = time.monotonic() + 30
    while True:
        answer = client.get("/v1/events")
        assert answer.status_code == 200, answer.text
        if any(item.get("appointment_id") == appointment_id for item in answer.json()["items"]):
            return
        assert time.monotonic() < deadline, "the event feed never showed the appointment's events"
        time.sleep(0.2)


def feed_id(client: object, staff_id: str) -> str:
    listed = client.get(f"/v1/staff/{staff_id}/feeds").json()["items"]  # type: ignore[attr-defined]
    return str(listed[0]["id"])


def test_ip_addresses_are_truncated() -> None:
    assert audit.truncated_ip("192.0.2.187") == "192.0.2.0/24"
    assert audit.truncated_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::/48"
    assert audit.truncated_ip("testclient") is None


def test_audit_entries_cannot_be_changed_but_are_purged(database: DatabaseHandle) -> None:
    asyncio.run(_append_only(database))


async def _append_only(database: DatabaseHandle) -> None:
    from datetime import UTC, datetime

    from scheduler.db import audit as store

    db = Database.from_url(database.url)
    old = datetime(2024, 1, 1, tzinfo=UTC)
    entry = {"at": old, "actor_kind": "api-key", "actor_id": "k", "actor_name": "n",
             "action": "appointment.read", "target_kind": "appointment", "target_id": "a",
             "appointment_id": None, "ip": None}
    try:
        async with db.write() as session:
            await store.append(session, [entry])
        refused = ["UPDATE audit_entry SET action = 'nothing'", "DELETE FROM audit_entry",
                   "DELETE FROM audit_entry WHERE at < '2030-01-01'"]
        if db.dialect == "postgresql":
            refused.append("TRUNCATE audit_entry")
        for statement in refused:
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.write() as session:
                    await session.execute(text(statement))
        async with db.read() as session:
            assert (await session.execute(text("SELECT action FROM audit_entry"))).scalar_one() == \
                "appointment.read"
        async with db.write() as session:
            assert await store.purge_older_than(session, old + timedelta(days=1)) == 1
        async with db.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar_one() == 0
        # The purge's exception ends with it: the same (pooled) connection refuses a DELETE again.
        async with db.write() as session:
            await store.append(session, [entry])
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.write() as session:
                await session.execute(text("DELETE FROM audit_entry"))
    finally:
        await db.dispose()
    if database.kind == "sqlite":  # another program's connection has no purge function at all
        with closing(sqlite3.connect(database.url.split("///", 1)[1])) as other, \
                pytest.raises(sqlite3.OperationalError, match="creneau_audit_purge"):
            other.execute("DELETE FROM audit_entry")


def test_a_clean_shutdown_writes_the_queued_entries(
    database: DatabaseHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "FLUSH_SECONDS", 3600.0)  # only the shutdown writes them
    admin_key = secrets.token_urlsafe(24)
    settings = Settings.from_env({
        "CRENEAU_DATABASE_URL": database.url, "CRENEAU_ADMIN_API_KEY": admin_key,
        "CRENEAU_SMS_BACKEND": "memory", "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32)})
    with TestClient(app=create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {admin_key}"
        for _ in range(3):
            assert client.get("/v1/appointments", params={"family_reference": REFERENCE}).status_code == 200
        assert asyncio.run(_count(database)) == 0
    assert asyncio.run(_count(database)) == 3


async def _count(database: DatabaseHandle) -> int:
    db = Database.from_url(database.url)
    try:
        async with db.read() as session:
            return int((await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar_one())
    finally:
        await db.dispose()
