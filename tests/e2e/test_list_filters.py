"""A list filter holds one of its documented values: ``status=null`` is not "no filter"."""

from __future__ import annotations

from tests.support.server import RunningServer


def test_a_null_status_filter_is_refused(server: RunningServer) -> None:
    with server.client() as client:
        for query in ("status=null", "status=null&status=null"):
            refused = client.get(f"/v1/appointments?{query}")
            assert (refused.status_code, refused.json()["code"]) == (422, "validation-error"), query
        assert client.get("/v1/appointments?status=booked").status_code == 200
