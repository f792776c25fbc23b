"""Slow and oversized request heads and bodies, sent over raw sockets to a real server."""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.databases import sqlite_database
from tests.support.server import RunningServer, start_server

HEADER_SECONDS = 1.0
BODY_SECONDS = 1.0
MAX_HEADER_BYTES = 8192
# Time for the server to act on a deadline, on a loaded two-core machine.
SLACK_SECONDS = 3.0


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with short deadlines (no database is involved in what these tests send)."""
    folder: Path = tmp_path_factory.mktemp("slow")
    env = {
        "CRENEAU_HEADER_TIMEOUT_SECONDS": str(HEADER_SECONDS),
        "CRENEAU_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        "CRENEAU_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    }
    with start_server(
        sqlite_database(folder), folder, admin_key=secrets.token_urlsafe(24), extra_env=env
    ) as server:
        yield server


def _connect(server: RunningServer) -> socket.socket:
    address = urlsplit(server.base_url)
    sock = socket.create_connection(
        (address.hostname, address.port), timeout=HEADER_SECONDS + SLACK_SECONDS + 5
    )
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def test_half_sent_headers_are_cut_off(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        received, waited = _read_until_closed(sock)
    assert received == b"" and waited < HEADER_SECONDS + SLACK_SECONDS


def test_a_silent_connection_is_cut_off(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        received, waited = _read_until_closed(sock)
    assert received == b"" and waited < HEADER_SECONDS + SLACK_SECONDS


def test_a_body_shorter_than_its_length_is_408(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(
            b"POST /v1/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + guarded.admin_key.encode()
            + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
        )
        received, waited = _read_until_closed(sock)
    assert waited < BODY_SECONDS + SLACK_SECONDS
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["code"] == "request-timeout"


def test_oversized_headers_are_431_and_not_buffered(guarded: RunningServer) -> None:
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 2))
        received, waited = _read_until_closed(sock)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), received[:200]
    assert json.loads(body)["code"] == "request-headers-too-large"
    assert waited < SLACK_SECONDS


def test_a_header_line_of_megabytes_is_refused_early(guarded: RunningServer) -> None:
    # 64 MB would be sent if the server kept reading; it stops at the limit and closes.
    sent = 0
    with _connect(guarded) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        chunk = b"a" * 65536
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert sent < 8 * 1024 * 1024  # the kernel buffers some; the server reads no further
    assert httpx.get(guarded.base_url + "/health", timeout=10).status_code == 200


def test_normal_requests_on_a_kept_alive_connection_still_work(guarded: RunningServer) -> None:
    with httpx.Client(base_url=guarded.base_url, timeout=10) as client:
        for _ in range(3):
            assert client.get("/health").status_code == 200
            time.sleep(HEADER_SECONDS / 2)
        assert client.get("/health").status_code == 200
