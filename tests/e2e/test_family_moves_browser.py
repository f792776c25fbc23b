"""A family moves its booked appointment from its page in a real browser, in French and in Arabic
(``tests/browser/family_moves.mjs``: headless Chromium, axe-core); the API then shows the new time,
with the same staff member at the same site, and the partner an ``appointment.rescheduled`` by the
family."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes.fake_twilio import FakeTwilio
from tests.support.family_page import book_and_read_link, public_programme
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def test_a_family_chooses_another_time_in_french_and_in_arabic(
    sms_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with sms_server.client() as client:
        prog = public_programme(client)
        french = book_and_read_link(client, fake_twilio, prog, "10:00", weeks=2)
        arabic = book_and_read_link(client, fake_twilio, prog, "11:00", weeks=2, language="ar")
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    node = shutil.which("node")
    assert node is not None and (BROWSER_TESTS / "node_modules" / "playwright-core").is_dir()
    done = subprocess.run([node, str(BROWSER_TESTS / "family_moves.mjs"), french.link, arabic.link,
                           str(ARTIFACTS)], check=False, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)})
    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    moved = json.loads(done.stdout)["moved"]
    with sms_server.client() as client:
        for booked, language in ((french, "fr"), (arabic, "ar")):
            now = client.get(f"/v1/appointments/{booked.id}").json()
            assert (now["start"], now["staff_id"], now["site_id"], now["status"]) == (
                moved[language], prog.staff_id, prog.site_id, "booked")
            history = client.get(f"/v1/appointments/{booked.id}/events").json()["items"]
            assert [(item["type"], item["actor"]["kind"]) for item in history
                    if item["type"] == "appointment.rescheduled"] == [("appointment.rescheduled", "family")]
