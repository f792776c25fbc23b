"""Two application instances on one database, as two worker processes or replicas are: each keeps
its own slot page and feed caches, and each sees the other's writes at once through the change
counters (``scheduler.db.counters``), with no time to live to wait out."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from litestar.testing import TestClient
from sqlalchemy import event

from scheduler.app import create_app
from scheduler.settings import Settings
from tests.support.api import at, booking, created, programme, slot_starts, upcoming
from tests.support.databases import DatabaseHandle

PUBLIC_URL = "http://testserver.local"


@pytest.fixture(scope="module")
def two_apps(module_database: DatabaseHandle) -> Iterator[tuple[TestClient, TestClient]]:  # type: ignore[type-arg]
    """Two apps on the module's database with one admin key; slot pages kept a minute, far past
    the tests (each test makes its own site, staff member and service)."""
    admin_key = secrets.token_urlsafe(24)
    settings = Settings.from_env({
        "CRENEAU_DATABASE_URL": module_database.url, "CRENEAU_ADMIN_API_KEY": admin_key,
        "CRENEAU_SMS_BACKEND": "memory", "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
        "CRENEAU_PUBLIC_URL": PUBLIC_URL, "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600",
        "CRENEAU_SLOTS_CACHE_SECONDS": "60",
    })
    with ExitStack() as stack:
        clients = []
        for _ in range(2):
            client = stack.enter_context(TestClient(app=create_app(settings), base_url=PUBLIC_URL))
            client.headers["Authorization"] = f"Bearer {admin_key}"
            clients.append(client)
        yield clients[0], clients[1]


def reads_of(client: TestClient) -> list[str]:  # type: ignore[type-arg]
    """Every SELECT the client's app runs from now on, appended as it goes (not the bookkeeping
    writes of when a key was last used or a feed last fetched, which run in tasks of their own)."""
    seen: list[str] = []
    engine = client.app.state.services.db.engine.sync_engine

    def note(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return seen


def test_a_booking_through_one_instance_is_seen_by_the_other_at_once(
    two_apps: tuple[TestClient, TestClient],  # type: ignore[type-arg]
) -> None:
    one, other = two_apps
    prog = programme(one)
    day = upcoming(3)
    free = slot_starts(other, prog, day)
    assert len(free) == 3
    ran = reads_of(other)
    assert slot_starts(other, prog, day) == free
    assert len(ran) == 1 and "change_counter" in ran[0], "from the cache, after reading the counters only"

    created(one.post("/v1/appointments", json=booking(prog, at(day, "10:00"))))
    assert slot_starts(other, prog, day) == [free[0], free[2]], "the booked slot is gone at once"

    # A feed read through the other instance: 304 while nothing changes, 200 once a booking lands.
    token = created(one.post(f"/v1/staff/{prog.staff_id}/feeds", json={}))["token"]
    first = other.get(f"/feeds/{token}.ics")
    assert first.status_code == 200 and "BEGIN:VEVENT" in first.text
    etag = first.headers["etag"]
    assert other.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag}).status_code == 304
    del ran[:]
    again = other.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    assert len(ran) == 1 and "change_counter" in ran[0], "a 304 reads the counters only"

    created(one.post("/v1/appointments", json=booking(prog, at(day, "11:00"))))
    changed = other.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.text.count("BEGIN:VEVENT") == first.text.count("BEGIN:VEVENT") + 1
    # Unchanged content keeps its ETag, whichever instance answers.
    assert one.get(f"/feeds/{token}.ics").headers["etag"] == changed.headers["etag"]

    assert one.delete(f"/v1/feeds/{token}").status_code == 204
    revoked = other.get(f"/feeds/{token}.ics", headers={"If-None-Match": changed.headers["etag"]})
    assert revoked.status_code == 404


def test_a_site_rename_or_a_closure_through_one_instance_reaches_the_other(
    two_apps: tuple[TestClient, TestClient],  # type: ignore[type-arg]
) -> None:
    one, other = two_apps
    prog = programme(one)
    day = upcoming(3)
    created(one.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
    staff_feed = created(one.post(f"/v1/staff/{prog.staff_id}/feeds", json={}))["token"]
    site_feed = created(one.post(f"/v1/sites/{prog.site_id}/feeds", json={}))["token"]
    staff_etag = other.get(f"/feeds/{staff_feed}.ics").headers["etag"]
    site_first = other.get(f"/feeds/{site_feed}.ics")
    assert "[" not in site_first.text.split("SUMMARY", 1)[1].split("\n", 1)[0]
    assert slot_starts(other, prog, day) == [at(day, "10:00"), at(day, "11:00")]

    # The site's new name is in the staff member's feed too (its events name their site).
    assert one.patch(f"/v1/sites/{prog.site_id}", json={"name": "Maison des familles"}).status_code == 200
    renamed = other.get(f"/feeds/{staff_feed}.ics", headers={"If-None-Match": staff_etag})
    assert renamed.status_code == 200 and "Maison des familles" in renamed.text

    # A closure makes the site's slots go and marks the booked appointment "to decide".
    closure = {"site_id": prog.site_id, "start": at(day, "08:00"), "end": at(day, "13:00"),
               "reason": "grève"}
    assert one.post("/v1/closures", json=closure).status_code == 201
    assert slot_starts(other, prog, day) == []
    site_after = other.get(f"/feeds/{site_feed}.ics", headers={"If-None-Match": site_first.headers["etag"]})
    assert site_after.status_code == 200 and site_after.text != site_first.text


def test_a_booking_is_checked_against_the_rules_as_they_are_whichever_instance_changed_them(
    two_apps: tuple[TestClient, TestClient],  # type: ignore[type-arg]
    module_database: DatabaseHandle,
) -> None:
    one, other = two_apps
    prog = programme(one)
    day = upcoming(3)
    staff = {"staff_id": prog.staff_id}
    created(one.post("/v1/appointments", json=booking(prog, at(day, "09:00"), **staff)))  # keeps its search
    ran = reads_of(one)
    created(one.post("/v1/appointments", json=booking(prog, at(day, "11:00"), **staff)))
    if module_database.kind == "postgresql":
        # Its check rode on the booking's own statement: the kept rules, the counter compared there.
        assert not any("FROM hold" in statement or "change_counter" in statement for statement in ran)

    # An absence through the other instance: this one's kept search is out of date.
    created(other.post("/v1/absences", json={
        "staff_id": prog.staff_id, "start": at(day, "10:00"), "end": at(day, "11:00")}))
    refused = one.post("/v1/appointments", json=booking(prog, at(day, "10:00"), **staff))
    assert (refused.status_code, refused.json()["code"]) == (409, "slot-unavailable")
    assert slot_starts(one, prog, day) == []
    assert slot_starts(other, prog, day) == []
