"""Feeds found by their owner and revoked by id: a worker who leaves takes their feeds along."""

from __future__ import annotations

import time

from tests.api.conftest import InProcess
from tests.support.api import created, programme


def test_feeds_are_listed_without_tokens_and_revoked_by_id(app: InProcess) -> None:
    client = app.client
    prog = programme(client)
    feed = created(client.post(f"/v1/staff/{prog.staff_id}/feeds", json={"privacy": "full"}))
    other = created(client.post(f"/v1/sites/{prog.site_id}/feeds", json={}))
    assert client.get(f"/feeds/{feed['token']}.ics").status_code == 200

    deadline = time.monotonic() + 5  # last_fetched_at is written after the answer, in a task of its own
    def listed_now() -> list[dict[str, object]]:
        items: list[dict[str, object]] = client.get(f"/v1/staff/{prog.staff_id}/feeds").json()["items"]
        return items

    while (listed := listed_now())[0]["last_fetched_at"] is None:
        assert time.monotonic() < deadline, "last_fetched_at never written"
        time.sleep(0.05)
    assert len(listed) == 1 and set(listed[0]) == {"id", "privacy", "created_at", "last_fetched_at"}
    assert listed[0]["privacy"] == "full" and feed["token"] not in str(listed)
    assert listed[0]["last_fetched_at"] is not None
    site_feeds = client.get(f"/v1/sites/{prog.site_id}/feeds").json()["items"]
    assert [item["privacy"] for item in site_feeds] == ["standard"]

    assert client.delete(f"/v1/feeds/{listed[0]['id']}").status_code == 204
    assert client.get(f"/feeds/{feed['token']}.ics").status_code == 404
    assert client.get(f"/v1/staff/{prog.staff_id}/feeds").json()["items"] == []
    assert client.delete(f"/v1/feeds/{listed[0]['id']}").status_code == 404
    assert client.delete(f"/v1/feeds/{other['token']}").status_code == 204
    assert client.get("/v1/staff/unknown/feeds").status_code == 404


def test_deleting_a_staff_member_revokes_their_feeds(app: InProcess) -> None:
    client = app.client
    staff = created(client.post("/v1/staff", json={"name": "Mme Leroy", "role": "psychologist"}))
    feed = created(client.post(f"/v1/staff/{staff['id']}/feeds", json={}))
    assert client.delete(f"/v1/staff/{staff['id']}").status_code == 204
    assert client.get(f"/feeds/{feed['token']}.ics").status_code == 404
    again = created(client.post("/v1/staff", json={"name": "Mme Leroy", "role": "psychologist"}))
    assert client.get(f"/v1/staff/{again['id']}/feeds").json()["items"] == []
