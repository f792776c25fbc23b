"""An error's log line names the route's template, never the raw path (ids and tokens stay out)."""

from __future__ import annotations

import logging

import pytest
from litestar import Request

from scheduler.api.problems import internal_error


def test_an_unhandled_error_is_logged_with_the_route_template(caplog: pytest.LogCaptureFixture) -> None:
    request: Request[None, None, None] = Request(scope={  # type: ignore[typeddict-item]
        "type": "http", "method": "POST", "path": "/v1/appointments/4f1c0de9a2b34c5d/cancel",
        "path_template": "/v1/appointments/{appointment_id}/cancel", "headers": [], "query_string": b"",
    })
    with caplog.at_level(logging.ERROR, logger="creneau.api"):
        response = internal_error(request, RuntimeError("boom"))
    assert response.status_code == 500
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("unhandled RuntimeError at ")
    assert line.endswith(" on POST /v1/appointments/{appointment_id}/cancel")
    assert "4f1c0de9a2b34c5d" not in line
