"""Keys that expire, keys that say when they were last used, a rotation without downtime, and a key
moved to other sites."""

from __future__ import annotations

import time

from tests.api.conftest import START, InProcess
from tests.support.api import booking, created, programme


def test_a_key_past_its_expiry_is_refused_and_its_use_is_noted(app: InProcess) -> None:
    client = app.client
    made = created(client.post("/v1/api-keys", json={
        "name": "partner", "scopes": ["slots:read"], "expires_at": "2026-03-02T11:00:00+01:00"}))
    assert made["expires_at"] is not None and made["last_used_at"] is None
    partner = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/sites", headers=partner).status_code == 200
    deadline = time.monotonic() + 5
    while client.get(f"/v1/api-keys/{made['id']}").json()["last_used_at"] is None:
        assert time.monotonic() < deadline, "last_used_at never written"
        time.sleep(0.05)
    assert client.get(f"/v1/api-keys/{made['id']}").json()["last_used_at"].startswith("2026-03-02T09:00")

    app.clock.set(START.replace(hour=10, minute=1))  # 11:01 in Paris
    refused = client.get("/v1/sites", headers=partner)
    assert refused.status_code == 401 and refused.json()["status"] == 401


def test_rotation_overlaps_then_the_old_key_expires(app: InProcess) -> None:
    client = app.client
    old = created(client.post("/v1/api-keys", json={"name": "cmpp", "scopes": ["appointments:read"]}))
    new = created(client.post("/v1/api-keys", json={"name": "cmpp", "scopes": ["appointments:read"]}))
    def status(key: dict[str, str]) -> int:
        return client.get("/v1/appointments", headers={"Authorization": f"Bearer {key['key']}"}).status_code

    assert (status(old), status(new)) == (200, 200)
    changed = client.patch(f"/v1/api-keys/{old['id']}", json={"expires_at": "2026-03-02T09:30:00Z"})
    assert changed.status_code == 200 and changed.json()["expires_at"] is not None
    app.clock.advance(hours=1)
    assert (status(old), status(new)) == (401, 200)


def test_a_key_moved_to_another_site_sees_that_site_at_once(app: InProcess) -> None:
    client = app.client
    a, b = programme(client, weekday=3), programme(client, weekday=3)
    booked = {prog.site_id: created(client.post("/v1/appointments", json=booking(
        prog, "2026-03-04T09:00:00+01:00")))["id"] for prog in (a, b)}
    key = created(client.post("/v1/api-keys", json={
        "name": "school", "scopes": ["appointments:read"], "site_ids": [a.site_id]}))
    headers = {"Authorization": f"Bearer {key['key']}"}

    def seen() -> set[str]:
        return {item["site_id"] for item in client.get("/v1/appointments", headers=headers).json()["items"]}

    assert seen() == {a.site_id}  # the key's look-up is now cached
    moved = client.patch(f"/v1/api-keys/{key['id']}", json={"site_ids": [b.site_id, b.site_id]})
    assert moved.status_code == 200 and moved.json()["site_ids"] == [b.site_id]
    assert seen() == {b.site_id}
    assert client.get(f"/v1/appointments/{booked[a.site_id]}", headers=headers).status_code == 404
    assert client.get(f"/v1/appointments/{booked[b.site_id]}", headers=headers).status_code == 200

    unknown = client.patch(f"/v1/api-keys/{key['id']}", json={"site_ids": [a.site_id, "no-such-site"]})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not-found")
    empty = client.patch(f"/v1/api-keys/{key['id']}", json={"site_ids": []})
    assert (empty.status_code, empty.json()["code"]) == (422, "validation-error")
    assert client.get(f"/v1/api-keys/{key['id']}").json()["site_ids"] == [b.site_id]

    widened = client.patch(f"/v1/api-keys/{key['id']}", json={"site_ids": None})
    assert widened.status_code == 200 and widened.json()["site_ids"] is None
    assert seen() == {a.site_id, b.site_id}
