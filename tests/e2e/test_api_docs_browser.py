"""The API documentation pages in a real browser: they render, and load nothing from outside the service.

The browser part is ``tests/browser/api_docs.mjs`` (Playwright driving Debian's Chromium). A
missing Chromium or missing npm packages fail the test: ``scripts/test`` installs them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import sqlite_database
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.e2e
BROWSER_TESTS = Path(__file__).resolve().parents[2] / "tests" / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_SECONDS = 180
PAGES = ("/schema", "/schema/swagger")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server on SQLite: the documentation pages read no database."""
    folder = tmp_path_factory.mktemp("docs")
    with start_server(sqlite_database(folder), folder, admin_key=secrets.token_urlsafe(24)) as server:
        yield server


def test_api_docs_render_from_the_service_alone(docs_server: RunningServer) -> None:
    server = docs_server
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    node = shutil.which("node")
    assert node is not None, "Node.js is missing: the browser test needs it (see .ci/run)"
    done = subprocess.run(
        [node, str(BROWSER_TESTS / "api_docs.mjs"), "créneau", *(server.base_url + page for page in PAGES)],
        check=False,
        capture_output=True,
        text=True,
        timeout=BROWSER_SECONDS,
        env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)},
    )
    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    report = json.loads(done.stdout)["report"]
    assert [entry["url"] for entry in report] == [server.base_url + page for page in PAGES]
    assert all(entry["requests"] >= 4 for entry in report)  # the page, its CSS, two scripts (, favicon)


def test_api_docs_pages_name_no_other_host(docs_server: RunningServer) -> None:
    server = docs_server
    for page in PAGES:
        html = httpx.get(server.base_url + page, timeout=10).text
        assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
        assert "/schema/assets/swagger-ui-bundle.js" in html
    assert httpx.get(server.base_url + "/schema/assets/swagger-ui.css", timeout=10).status_code == 200
