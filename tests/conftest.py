"""Shared fixtures: databases (SQLite and PostgreSQL over real connections) and real server processes."""

from __future__ import annotations

import os
import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx._transports.default as httpx_transport
import pytest

from tests.support.databases import (
    DatabaseHandle,
    postgres_available,
    postgres_url,
    sqlite_database,
    temporary_postgres,
)
from tests.support.server import RunningServer, start_server

DATABASES = ["sqlite", "postgresql"]


def _one_default_ssl_context() -> None:
    """Every httpx client of the tests shares one default TLS context instead of building its own.

    httpx builds a context for each client, loading certifi's bundle: 80 ms of CPU each with this
    machine's OpenSSL, and the tests make a client per request in places (a tenth of the suite's
    time). The servers under test are plain HTTP on loopback: no context is ever used; a client
    given its own ``verify`` still gets its own.
    """
    build = httpx_transport.create_ssl_context
    shared: list[ssl.SSLContext] = []

    def create_ssl_context(
        verify: object = True, cert: object = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is not True or cert is not None or not trust_env:
            return build(verify=verify, cert=cert, trust_env=trust_env)  # type: ignore[arg-type]
        if not shared:
            shared.append(build())
        return shared[0]

    httpx_transport.create_ssl_context = create_ssl_context  # type: ignore[assignment]


_one_default_ssl_context()


SHARED_REDIS_MODULES = frozenset({
    "tests/contract/test_send_rate.py", "tests/contract/test_shared_windows.py",
    "tests/e2e/test_rate_limit.py", "tests/e2e/test_scale_out.py",
})
"""Modules whose servers share the Redis on 6379 (limits counted per client address, which is
127.0.0.1 for every test): run one after the other, never beside each other."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL is part of the suite: in CI its absence fails the run; elsewhere it is reported.

    With pytest-xdist (``scripts/test`` runs two workers, ``--dist loadgroup``), a module's tests run
    in one worker, so its module-scoped servers and databases are made once; the modules sharing
    Redis run in one worker too.
    """
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group("redis" if module in SHARED_REDIS_MODULES else module))
    if postgres_available():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"PostgreSQL is not reachable at {postgres_url()} (CI must test it)")
    reason = f"PostgreSQL not reachable at {postgres_url()}; set CRENEAU_TEST_POSTGRES_URL"
    for item in items:
        if "postgresql" in item.name:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseHandle]:
    """A fresh, migrated database of each kind, for one test."""
    yield from _database(request.param, tmp_path)


@pytest.fixture(scope="module", params=DATABASES)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseHandle]:
    """A fresh, migrated database of each kind, shared by one module."""
    yield from _database(request.param, tmp_path_factory.mktemp("db"))


def _database(kind: str, folder: Path) -> Iterator[DatabaseHandle]:
    if kind == "sqlite":
        yield sqlite_database(folder)
    else:
        with temporary_postgres() as handle:
            yield handle


@pytest.fixture(scope="module")
def server(
    module_database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real `creneau serve` process (one worker) on the module's database."""
    with start_server(
        module_database, tmp_path_factory.mktemp("server"), admin_key=secrets.token_urlsafe(24)
    ) as running:
        yield running


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (the service's loop)."""
    return "asyncio"
