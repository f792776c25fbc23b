"""The report page: a link made through the API, then the page it opens (HTML, no script, no outside load)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.api.conftest import InProcess
from tests.api.test_appointment_stats import PERIOD, _scenario, _settle


def test_the_link_opens_a_page_of_the_period_s_figures(app: InProcess) -> None:
    scenario = _scenario(app)
    _settle(app, scenario)
    answer = app.client.post("/v1/reports", json={**PERIOD, "site_ids": None})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["url"].startswith(f"{app.public_url}/reports/")
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - app.clock.now() == timedelta(days=30)
    token = body["url"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits in base64url

    page = app.client.get(f"/reports/{token}", headers={"Authorization": ""})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "du 1 janvier 2026 au 30 avril 2026" in html
    # 9 appointments (6 booked here, 3 imported); no-shows among those whose outcome is known: 2 of 5.
    assert re.search(r'<span class="value">9</span> <span class="label">Rendez-vous pris', html)
    assert "40,0\u00a0%" in html or "40,0\u202f%" in html
    assert html.count("<svg") >= 3 and "avr. 2026" in html
    for reference in ("F1", "F2", "F6"):
        assert f">{reference}<" not in html  # counts only, never a family


def test_an_unknown_or_expired_link_is_a_404(app: InProcess) -> None:
    answer = app.client.post("/v1/reports", json={**PERIOD, "site_ids": None})
    token = answer.json()["url"].rsplit("/", 1)[1]
    assert app.client.get(f"/reports/{token[:-2]}xx").status_code == 404
    app.clock.advance(days=31)
    assert app.client.get(f"/reports/{token}").status_code == 404


def test_a_report_of_an_unknown_site_is_a_422(app: InProcess) -> None:
    answer = app.client.post("/v1/reports", json={**PERIOD, "site_ids": ["nope"]})
    assert answer.status_code == 422
