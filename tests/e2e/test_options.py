"""OPTIONS names every method of its path, on the API (whatever the key) and on the family pages."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import RunningServer


@pytest.mark.parametrize(("path", "allowed"), [
    ("/v1/sites", "GET, OPTIONS, POST"),
    ("/v1/sites/any-id", "DELETE, GET, OPTIONS, PATCH"),
    ("/v1/appointments/any-id/cancel", "OPTIONS, POST"),
    ("/r/any-token/cancel", "GET, OPTIONS, POST"),
], ids=["v1_collection", "v1_item", "v1_action", "family_page_cancel"])
def test_options_lists_every_method_of_the_path(server: RunningServer, path: str, allowed: str) -> None:
    keys = ({}, {"Authorization": "Bearer not-a-key"}, {"Authorization": f"Bearer {server.admin_key}"})
    for headers in keys:
        answer = httpx.options(server.base_url + path, headers=headers, timeout=10)
        assert (answer.status_code, answer.headers.get("allow")) == (204, allowed), headers
