"""The report page in a real browser: headless Chromium audits it with axe-core, screenshots it and
prints it to PDF on A4 (``tests/browser/report_page.mjs``); the files land in ``test-artifacts/``.

The figures come through a real server: appointments booked, one cancelled, and last year's
imported with their outcomes. A missing Chromium or missing npm packages fail the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.api import at, booking, created, programme, upcoming
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_SECONDS = 180


def _past_items(prog_site: str, prog_staff: str, prog_service: str, year: int) -> list[dict[str, object]]:
    items = []
    outcomes = ("attended", "attended", "no_show", "attended", "cancelled", "attended")
    for month in range(1, 13):
        for number in range(month % 4 + 2):
            day = date(year, month, 3 + number * 3)
            status = outcomes[(month + number) % len(outcomes)]
            items.append({
                "external_id": f"archive-{year}-{month:02d}-{number}", "service_id": prog_service,
                "staff_id": prog_staff, "site_id": prog_site, "start": f"{day}T10:00:00+01:00",
                "end": f"{day}T11:00:00+01:00", "status": status,
                "family": {"reference": f"ARCH-{(month * 7 + number) % 23:03d}",
                           "language": ("fr", "ar", "tr", "fr")[number % 4]}})
    return items


def test_the_report_page_passes_axe_prints_on_a4_and_fits_320_px(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        renamed = client.patch(f"/v1/sites/{prog.site_id}", json={"name": "Collège Émile-Zola"})
        assert renamed.status_code == 200
        last_year = date.today().year - 1
        items = _past_items(prog.site_id, prog.staff_id, prog.service_id, last_year)
        answer = client.post("/v1/appointments/import", json={"items": items})
        assert answer.status_code == 200, answer.text
        day = upcoming(3)
        first = created(client.post("/v1/appointments", json=booking(prog, at(day, "09:00"))))
        created(client.post("/v1/appointments", json=booking(prog, at(day, "10:00"))))
        assert client.post(f"/v1/appointments/{first['id']}/cancel").status_code == 200
        link = created(client.post("/v1/reports", json={
            "from": f"{last_year}-01-01", "to": str(day + timedelta(days=1)), "site_ids": [prog.site_id]}))

    node = shutil.which("node")
    assert node is not None, "Node.js is missing: the browser test needs it (see .ci/run)"
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
    done = subprocess.run([node, str(BROWSER_TESTS / "report_page.mjs"), link["url"], str(ARTIFACTS)],
                          check=False, capture_output=True, text=True, timeout=BROWSER_SECONDS,
                          env={**os.environ, "CHROMIUM_PATH": str(CHROMIUM)})

    assert done.returncode == 0, f"browser checks failed:\n{done.stderr}\n{done.stdout}"
    for name in ("report-page.png", "report-page-320.png", "report-page.pdf"):
        assert (ARTIFACTS / name).stat().st_size > 0
