"""While the database cannot be reached or written, requests are 503 with Retry-After, then it recovers alone.

PostgreSQL: the shared server stays up; this test's server reaches its own throw-away database
through a TCP proxy the test cuts and restores. SQLite: the tests run as root, for whom file
modes do not stop writes; the database file and its write-ahead log are made immutable
(``chattr +i``), which stops even root's writes, on already-open descriptors too, and is
lifted the same way.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.support.api import PROBLEM, Programme, at, booking, created, family, programme, upcoming
from tests.support.databases import DatabaseHandle, sqlite_database, temporary_postgres
from tests.support.server import RunningServer, start_server
from tests.support.tcp_proxy import TcpProxy

# The server is told to wait at most this long for a connection.
DATABASE_TIMEOUT = 2.0
# An outage must be answered well before a client's own timeout.
QUICK_SECONDS = DATABASE_TIMEOUT + 3.0
DISPATCH_SECONDS = 0.5
ENV = {"CRENEAU_DATABASE_TIMEOUT_SECONDS": str(DATABASE_TIMEOUT),
       "CRENEAU_DISPATCH_INTERVAL_SECONDS": str(DISPATCH_SECONDS)}


def _assert_unavailable(call: Callable[[], httpx.Response]) -> None:
    started = time.monotonic()
    response = call()
    assert time.monotonic() - started < QUICK_SECONDS
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "service-unavailable"
    assert int(response.headers["retry-after"]) >= 1
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()


def _booked_references(client: httpx.Client, prog: Programme) -> set[str]:
    response = client.get("/v1/appointments", params={"staff_id": prog.staff_id, "limit": 500})
    assert response.status_code == 200, response.text
    return {item["family"]["reference"] for item in response.json()["items"]}


def _eventually(call: Callable[[], httpx.Response], status: int, seconds: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = call()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def _outage_and_recovery(server: RunningServer, cut: Callable[[], None], restore: Callable[[], None],
                         *, reads_fail: bool) -> None:
    with server.client() as client:
        prog = programme(client)
        day = upcoming(3, weeks_ahead=2)
        created(
            client.post("/v1/appointments", json=booking(prog, at(day, "09:00"), family=family("BEFORE-1")))
        )
        cut()
        lost = booking(prog, at(day, "10:00"), family=family("DURING-1"))
        _assert_unavailable(lambda: client.post("/v1/appointments", json=lost))
        if reads_fail:
            _assert_unavailable(lambda: client.get(f"/v1/sites/{prog.site_id}"))
        time.sleep(DISPATCH_SECONDS * 3)  # the SMS dispatcher's ticks meet the outage too
        restore()
        # No restart: the next requests find the database again.
        assert _eventually(lambda: client.get(f"/v1/sites/{prog.site_id}"), 200).status_code == 200
        retried = _eventually(lambda: client.post("/v1/appointments", json=lost), 201)
        assert retried.status_code == 201, retried.text  # the slot was not half-taken by the failed attempt
        assert _booked_references(client, prog) == {"BEFORE-1", "DURING-1"}
    if reads_fail:
        # The background jobs skip their runs with a warning, not a traceback per tick.
        assert "dispatch_due skipped: database unavailable" in server.log()
    assert "Traceback" not in server.log()


def test_postgresql_outage_is_503_then_recovers(tmp_path: Path) -> None:
    with temporary_postgres() as database:
        url = make_url(database.url)
        with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
            proxied = DatabaseHandle("postgresql", url.set(host="127.0.0.1", port=proxy.port)
                                     .render_as_string(hide_password=False))
            with start_server(
                proxied, tmp_path, admin_key=secrets.token_urlsafe(24), extra_env=ENV
            ) as server:
                _outage_and_recovery(server, proxy.cut, proxy.restore, reads_fail=True)


@contextmanager
def _immutable_switch(folder: Path) -> Iterator[tuple[Callable[[], None], Callable[[], None]]]:
    # The database and its write-ahead log, not the shared-memory index: SQLite maps that one
    # into memory, and a page fault on an immutable mapping would kill the server (SIGBUS),
    # which is not the outage under test.
    files = [str(folder / "creneau-test.db"), str(folder / "creneau-test.db-wal")]

    def set_immutable(flag: str) -> None:
        subprocess.run(["chattr", flag, *files], check=True)

    try:
        yield (lambda: set_immutable("+i")), (lambda: set_immutable("-i"))
    finally:
        set_immutable("-i")  # never leave files pytest cannot clean up


def test_sqlite_unwritable_is_503_then_recovers(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    with (start_server(database, tmp_path, admin_key=secrets.token_urlsafe(24), extra_env=ENV) as server,
          _immutable_switch(tmp_path) as (cut, restore)):
        _outage_and_recovery(server, cut, restore, reads_fail=False)
