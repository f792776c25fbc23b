"""Rate limits per API key against a real server: counted in memory (one worker) or in Redis (two)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.support.api import PROBLEM, created
from tests.support.databases import DatabaseHandle
from tests.support.server import RunningServer, start_server

LIMIT = 5
REDIS_URL = os.environ.get("CRENEAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["memory", "redis"])
def limited_server(request: pytest.FixtureRequest, module_database: DatabaseHandle,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server limited to LIMIT requests a minute per key; two workers sharing Redis, or one in memory."""
    env = {"CRENEAU_RATE_LIMIT": f"{LIMIT}/minute"}
    workers = 1
    if request.param == "redis":
        # Redis is part of the suite like PostgreSQL: its absence is a failure, not a skip.
        assert _redis_answers(), f"Redis is not reachable at {REDIS_URL} (set CRENEAU_TEST_REDIS_URL)"
        env["CRENEAU_REDIS_URL"] = REDIS_URL
        workers = 2
    with start_server(
        module_database,
        tmp_path_factory.mktemp("limited"),
        admin_key=secrets.token_urlsafe(24),
        workers=workers,
        extra_env=env,
    ) as running:
        yield running


def _get(server: RunningServer, path: str, key: str | None) -> httpx.Response:
    # A new connection each time, so that with two workers both of them answer.
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(server.base_url + path, headers=headers, timeout=10)


def test_each_key_has_its_own_limit_then_429_rate_limited(limited_server: RunningServer) -> None:
    with limited_server.client() as client:
        other = created(client.post("/v1/api-keys", json={"name": "partner", "scopes": ["admin"]}))["key"]
    # The key creation above was the admin key's first request of the minute.
    answers = [_get(limited_server, "/v1/sites", limited_server.admin_key) for _ in range(LIMIT - 1)]
    assert [answer.status_code for answer in answers] == [200] * (LIMIT - 1)
    assert answers[-1].headers["RateLimit-Limit"] == str(LIMIT)
    assert answers[-1].headers["RateLimit-Remaining"] == "0"
    refused = _get(limited_server, "/v1/sites", limited_server.admin_key)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert (
        refused.headers["RateLimit-Remaining"] == "0"
        and refused.headers["RateLimit-Policy"] == f"{LIMIT}; w=60"
    )
    assert _get(limited_server, "/v1/sites", other).status_code == 200
    for path in ("/health", "/metrics", "/schema/openapi.json"):
        assert _get(limited_server, path, limited_server.admin_key).status_code == 200, path


def test_requests_without_a_key_are_limited_by_address(module_database: DatabaseHandle,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    # Memory store only: every test run on this machine calls from 127.0.0.1, and a Redis
    # bucket for that address would be shared with them.
    with start_server(module_database, tmp_path_factory.mktemp("anon"), admin_key=secrets.token_urlsafe(24),
                      extra_env={"CRENEAU_RATE_LIMIT": f"{LIMIT}/minute"}) as server:
        statuses = [_get(server, "/v1/sites", None).status_code for _ in range(LIMIT + 1)]
        assert statuses == [401] * LIMIT + [429]
        assert _get(server, "/v1/sites", server.admin_key).status_code == 200
