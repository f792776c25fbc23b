"""/metrics in Prometheus format and the request id header, against a real server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import at, booking, created, programme, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server


def _samples(server: RunningServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(server.base_url + "/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def test_metrics_count_requests_by_route_bookings_feeds_and_messages(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        start = at(upcoming(3, weeks_ahead=2), "09:00")
        created(client.post("/v1/appointments", json=booking(prog, start)))
        assert client.post("/v1/appointments", json=booking(prog, start)).json()["code"] == "slot-unavailable"
        feed = created(client.post(f"/v1/staff/{prog.staff_id}/feeds", json={}))
        assert httpx.get(feed["url"]).status_code == 200
        assert client.get(f"/v1/sites/{prog.site_id}").status_code == 200
    samples = _samples(server)
    assert samples[("creneau_bookings_total", frozenset({("outcome", "booked")}))] >= 1
    assert samples[("creneau_bookings_total", frozenset({("outcome", "slot-unavailable")}))] >= 1
    assert samples[("creneau_feed_builds_total", frozenset())] >= 1
    labels = {dict(key[1]).get("route") for key in samples if key[0] == "creneau_http_requests_total"}
    assert {"/v1/sites/{ident}", "/feeds/{filename}", "/v1/appointments"} <= labels
    assert not any(prog.site_id in str(label) or feed["token"] in str(label) for label in labels)
    messages = {
        dict(key[1])["status"]: value for key, value in samples.items() if key[0] == "creneau_sms_messages"
    }
    assert sum(messages.values()) >= 1
    assert ("creneau_sms_dispatch_lag_seconds", frozenset()) in samples


def test_every_answer_carries_a_request_id(server: RunningServer) -> None:
    first = httpx.get(server.base_url + "/nowhere")
    second = httpx.get(server.base_url + "/health/live")
    assert first.status_code == 404 and len(first.headers["X-Request-ID"]) == 32
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert (
        httpx.get(server.base_url + "/health/live", headers={"X-Request-ID": "lb-7f3a"}).headers[
            "X-Request-ID"
        ]
        == "lb-7f3a"
    )


@pytest.fixture
def no_metrics_server(
    module_database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with start_server(
        module_database,
        tmp_path_factory.mktemp("nometrics"),
        admin_key=secrets.token_urlsafe(24),
        extra_env={"CRENEAU_METRICS_ENABLED": "false"},
    ) as running:
        yield running


def test_metrics_can_be_switched_off(no_metrics_server: RunningServer) -> None:
    assert httpx.get(no_metrics_server.base_url + "/metrics").status_code == 404
