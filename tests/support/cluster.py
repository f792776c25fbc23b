"""Several `creneau serve` replicas behind a real nginx, sharing one database and one Redis.

nginx is Debian's package (``scripts/system-deps`` installs it), run as a child process (not a
daemon) on a free port with a configuration written to a temporary folder; its ``location`` is
the repository's own ``deploy/creneau-proxy.conf``. Its access log names the replica that
answered each request (``$upstream_addr``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from tests.support.databases import DatabaseHandle
from tests.support.server import STARTUP_SECONDS, RunningServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY_LOCATION = ROOT / "deploy" / "creneau-proxy.conf"
REDIS_URL = os.environ.get("CRENEAU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def redis_url() -> str:
    """The suite's Redis, started (``redis-server --daemonize yes``) when none answers on the default URL."""
    if not _redis_answers() and "CRENEAU_TEST_REDIS_URL" not in os.environ and shutil.which("redis-server"):
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                        "--save", "", "--appendonly", "no"], check=True, capture_output=True)
        deadline = time.monotonic() + 10
        while not _redis_answers() and time.monotonic() < deadline:
            time.sleep(0.05)
    # Redis is part of the suite like PostgreSQL: its absence is a failure, not a skip.
    assert _redis_answers(), f"Redis is not reachable at {REDIS_URL} (set CRENEAU_TEST_REDIS_URL)"
    return REDIS_URL


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@dataclass
class Cluster:
    """The proxy's address, the replicas behind it, and the proxy's access log."""

    base_url: str
    admin_key: str
    replicas: list[RunningServer]
    access_log: Path
    folder: Path
    nginx: subprocess.Popen[bytes] = field(repr=False)

    def client(self, key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """A client of the proxy, authenticated with ``key`` (the admin key by default)."""
        return httpx.Client(base_url=self.base_url, timeout=timeout,
                            headers={"Authorization": f"Bearer {key or self.admin_key}"})

    def async_client(self, key: str | None = None, timeout: float = 60.0) -> httpx.AsyncClient:
        """An async client of the proxy, with room for many requests at once."""
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {key or self.admin_key}"},
                                 limits=httpx.Limits(max_connections=100))

    def logged(self) -> int:
        """How many requests the proxy logged so far (for ``answered_by``'s ``after``)."""
        return len(self.access_log.read_text().splitlines())

    def answered_by(self, marker: str, after: int = 0) -> dict[str, list[int]]:
        """Statuses of the proxied requests whose path contains ``marker``, per answering replica's port,
        from the ``after``-th logged request on."""
        found: dict[str, list[int]] = {}
        for line in self.access_log.read_text().splitlines()[after:]:
            status, path, upstreams = line.split("|", 2)
            if marker in path:
                # Several addresses when a replica refused the connection and the next one answered.
                found.setdefault(upstreams.rsplit(":", 1)[-1], []).append(int(status))
        return found


def _nginx_config(folder: Path, port: int, replica_ports: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in replica_ports)
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Run as root (CI containers), the workers stay root rather than fall to "nobody".
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
{temp}
    log_format replica '$status|$request_uri|$upstream_addr';
    access_log {folder}/access.log replica;
    upstream creneau {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        include {PROXY_LOCATION};
    }}
}}
"""


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "scheduler.cli", "serve", "--no-migrate"],
                                env=env, stdout=out, stderr=out)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {STARTUP_SECONDS}s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def start_cluster(database: DatabaseHandle, folder: Path, *, replicas: int, admin_key: str,
                  env: dict[str, str]) -> Iterator[Cluster]:
    """``replicas`` servers (started side by side) and nginx in front; every replica gets ``env``,
    with the proxy's address as ``CRENEAU_PUBLIC_URL`` and the proxy trusted for client addresses."""
    port = free_port()
    base = {key: value for key, value in os.environ.items() if not key.startswith(("CRENEAU_", "TWILIO_"))}
    shared = {**base, "CRENEAU_DATABASE_URL": database.url, "CRENEAU_HOST": "127.0.0.1",
              "CRENEAU_ADMIN_API_KEY": admin_key, "CRENEAU_PUBLIC_URL": f"http://127.0.0.1:{port}",
              "CRENEAU_FORWARDED_ALLOW_IPS": "127.0.0.1", **env}
    with ExitStack() as stack:
        servers: list[RunningServer] = []
        for index in range(replicas):
            replica_port = free_port()
            log = folder / f"replica-{index}.log"
            process = _spawn({**shared, "CRENEAU_PORT": str(replica_port)}, log)
            stack.callback(_stop, process)
            url = f"http://127.0.0.1:{replica_port}"
            servers.append(RunningServer(url, admin_key, log, database, process))
        for server in servers:
            _wait(server.base_url, server.process, server.log_path)
        config = folder / "nginx.conf"
        config.write_text(_nginx_config(folder, port, [int(s.base_url.rsplit(":", 1)[1]) for s in servers]))
        errors = folder / "error.log"
        with (folder / "nginx.out").open("wb") as out:
            nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(folder), "-e", str(errors)],
                                     stdout=out, stderr=out)
        stack.callback(_stop, nginx)
        cluster = Cluster(f"http://127.0.0.1:{port}", admin_key, servers, folder / "access.log", folder,
                          nginx)
        _wait(cluster.base_url, nginx, errors)
        yield cluster
