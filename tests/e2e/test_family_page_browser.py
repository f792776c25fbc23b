"""The family's page in a real browser: headless Chromium clicks confirm and cancel, axe-core audits.

The browser part is ``tests/browser/family_page.mjs`` (Playwright driving Debian's Chromium);
this test starts the server and the fake Twilio, books, hands it the links read from the SMS,
and checks what it did through the API and the staff's calendar feed. A missing Chromium or
missing npm packages fail the test: they are part of the suite (``scripts/test`` installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import at, family, slot_starts, upcoming
from tests.support.family_page import LINK, book_and_read_link, public_programme, unique_mobile, wait_for_sms
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_SECONDS = 180


def _run_browser(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    node = shutil.which("node")
    assert node is not None, "Node.js is missing: the browser test needs it (see .ci/run)"
    assert (BROWSER_TESTS / "node_modules" / "playwright-core").is_dir(), "run: npm ci --prefix tests/browser"
    # check=False: the exit code is the verdict, asserted with the script's own report.
    return subprocess.run([node, str(BROWSER_TESTS / "family_page.mjs"), *arguments], check=False,
                          capture_output=True, text=True, timeout=BROWSER_SECONDS,
                          env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)})


def test_a_family_confirms_then_cancels_in_a_real_browser(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = public_programme(client)
        assert client.patch(f"/v1/sites/{prog.site_id}", json={
            "public_label": "Maison des Familles Jean-Moulin",
            "address": "12 avenue du Général de Gaulle, 94120 Fontenay-sous-Bois"}).status_code == 200
        feed = client.post(f"/v1/staff/{prog.staff_id}/feeds", json={"privacy": "busy"}).json()["url"]
        french = book_and_read_link(client, fake_twilio, prog, "10:00", weeks=2)
        arabic = book_and_read_link(client, fake_twilio, prog, "11:00", weeks=2, language="ar")

    done = _run_browser(french.link, arabic.link, str(ARTIFACTS))

    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    assert (ARTIFACTS / "family-page-fr.png").stat().st_size > 0
    assert (ARTIFACTS / "family-page-ar.png").stat().st_size > 0
    with sms_server.client() as client:
        assert client.get(f"/v1/appointments/{french.id}").json()["status"] == "cancelled"
        assert client.get(f"/v1/appointments/{arabic.id}").json()["status"] == "booked"
        assert french.start in slot_starts(client, prog, upcoming(3, weeks_ahead=2))
    calendar = httpx.get(feed, timeout=30).text
    assert calendar.count("BEGIN:VEVENT") == 2 and calendar.count("STATUS:CANCELLED") == 1


def test_a_family_sees_its_whole_pathway_and_confirms_a_session_in_a_real_browser(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    national, number = unique_mobile()
    with sms_server.client() as client:
        prog = public_programme(client, start="14:00", end="16:00")
        starts = [at(upcoming(3, weeks_ahead=weeks), "14:00") for weeks in (5, 6, 7)]
        pathway = client.post("/v1/pathways", json={
            "service_id": prog.service_id, "staff_id": prog.staff_id,
            "family": family(phone=national),
            "sessions": [{"start": start, "attendees": who}
                         for start, who in zip(starts, ("parents", "child", "family"), strict=True)]})
        assert pathway.status_code == 201, pathway.text
        found = LINK.search(wait_for_sms(fake_twilio, number))
        assert found is not None

    script = BROWSER_TESTS / "family_pathway.mjs"
    done = subprocess.run([_node(), str(script), found.group(0), "3", str(ARTIFACTS)], check=False,
                          capture_output=True, text=True, timeout=BROWSER_SECONDS,
                          env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)})

    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    assert (ARTIFACTS / "family-pathway.png").stat().st_size > 0
    with sms_server.client() as client:
        sessions = client.get(f"/v1/pathways/{pathway.json()['id']}").json()["sessions"]
    assert [session["status"] for session in sessions] == ["booked", "confirmed", "booked"]


def _node() -> str:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    node = shutil.which("node")
    assert node is not None, "Node.js is missing: the browser test needs it (see .ci/run)"
    return node
