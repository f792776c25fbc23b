"""A real `creneau serve` process for end-to-end tests, and an HTTP client bound to it."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.databases import DatabaseHandle

STARTUP_SECONDS = 30.0


@dataclass
class RunningServer:
    """A server process: where it listens, its admin key, and where its log goes."""

    base_url: str
    admin_key: str
    log_path: Path
    database: DatabaseHandle
    process: subprocess.Popen[bytes] = field(repr=False)

    def client(self, key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """A synchronous client, authenticated with ``key`` (the admin key by default)."""
        return httpx.Client(base_url=self.base_url, headers=_auth(key or self.admin_key), timeout=timeout)

    def async_client(
        self, key: str | None = None, timeout: float = 60.0, **kwargs: object
    ) -> httpx.AsyncClient:
        """An async client, authenticated with ``key`` (the admin key by default)."""
        return httpx.AsyncClient(
            base_url=self.base_url, headers=_auth(key or self.admin_key), timeout=timeout, **kwargs
        )  # type: ignore[arg-type]

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def start_server(
    database: DatabaseHandle,
    folder: Path,
    *,
    admin_key: str,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[RunningServer]:
    """Run `creneau serve` until the block ends; fails loudly if not healthy within ``startup_seconds``."""
    port = free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("CRENEAU_", "TWILIO_"))},
        "CRENEAU_DATABASE_URL": database.url,
        "CRENEAU_HOST": "127.0.0.1",
        "CRENEAU_PORT": str(port),
        "CRENEAU_WORKERS": str(workers),
        "CRENEAU_ADMIN_API_KEY": admin_key,
        # Signs family page links; one per server, as an operator would set it.
        "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
        "CRENEAU_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRENEAU_SMS_BACKEND": "console",
        "CRENEAU_DISPATCH_INTERVAL_SECONDS": "1",
        **(extra_env or {}),
    }
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"], env=env, stdout=log, stderr=log
        )
    server = RunningServer(f"http://127.0.0.1:{port}", admin_key, log_path, database, process)
    try:
        _wait_healthy(server, startup_seconds)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: RunningServer, startup_seconds: float) -> None:
    deadline = time.monotonic() + startup_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {startup_seconds:g}s:\n{server.log()}")
