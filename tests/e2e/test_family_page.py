"""The family's page behind the SMS link, through a real server texting via the fake Twilio.

Each test books through the API, reads the link from the SMS the fake Twilio received, and
uses the page as a phone would: plain GETs and form POSTs, no API key.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from scheduler.db.engine import Database
from scheduler.db.tables import FamilyLink
from tests.fakes.fake_twilio import FakeTwilio
from tests.support.api import at, programme, slot_starts, upcoming
from tests.support.databases import DatabaseHandle
from tests.support.family_page import (
    BRING,
    SITE_PHONE,
    book_and_read_link,
    form_key,
    public_programme,
    texting_server,
)
from tests.support.server import RunningServer

pytestmark = pytest.mark.e2e
STAFF_NOTE = "Note interne : suivi renforcé"
PAGE_BUDGET_BYTES = 30 * 1024
CAP = 20
"""Wrong links answered 404 per minute in the guessing test (kept small: each guess is a new connection)."""


@pytest.fixture(scope="module")
def secret_key() -> str:
    """The module's servers share a database, hence a secret key (either may text a link)."""
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def page_server(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, secret_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("page"),
                        CRENEAU_SECRET_KEY=secret_key) as running:
        yield running


def _browser(server: RunningServer) -> httpx.Client:
    """A client with no API key and no redirect following, like a phone's first request."""
    return httpx.Client(base_url=server.base_url, timeout=30, headers={"Accept-Language": "fr-FR,fr;q=0.9"})


def _status(server: RunningServer, appointment_id: str) -> str:
    with server.client() as client:
        status: str = client.get(f"/v1/appointments/{appointment_id}").json()["status"]
        return status


def test_the_sms_link_opens_a_french_page_that_tells_only_what_the_family_needs(
    page_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with page_server.client() as client:
        prog = public_programme(client)
        staff_name = client.get(f"/v1/staff/{prog.staff_id}").json()["name"]
        service_name = client.get(f"/v1/services/{prog.service_id}").json()["name"]
        booked = book_and_read_link(client, fake_twilio, prog, "10:00", note=STAFF_NOTE)
    assert booked.sms.startswith("Rendez-vous le mercredi ") and booked.sms.endswith(booked.link)
    with _browser(page_server) as phone:
        response = phone.get(booked.path)
    page = response.text
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr" dir="ltr">' in page
    assert "Votre rendez-vous" in page and "mercredi" in page and "10:00" in page
    assert "Accueil" in page and "1 rue de la Paix" in page
    assert "https://www.openstreetmap.org/search?query=1%20rue%20de%20la%20Paix" in page
    assert 'href="tel:+33143943300"' in page and SITE_PHONE in page
    assert BRING.replace("'", "&#39;") in page
    for secret in (staff_name, service_name, STAFF_NOTE, "suivi", booked.appointment["family"]["reference"],
                   booked.appointment["family"]["phone"], "psycholog"):
        assert secret not in page
    assert len(response.content) < PAGE_BUDGET_BYTES
    # Nothing loaded from anywhere, nothing run; the token never leaves in a Referer.
    assert "<script" not in page and 'src="http' not in page and "<link rel=\"stylesheet\"" not in page
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_the_arabic_page_reads_right_to_left(page_server: RunningServer, fake_twilio: FakeTwilio) -> None:
    with page_server.client() as client:
        booked = book_and_read_link(client, fake_twilio, public_programme(client), "11:00", language="ar")
    with _browser(page_server) as phone:
        page = phone.get(booked.path).text
    assert '<html lang="ar" dir="rtl">' in page
    assert "موعدك" in page and "الأربعاء" in page and "سأحضر" in page


def test_an_unknown_language_reads_the_french_page(
    page_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with page_server.client() as client:
        booked = book_and_read_link(client, fake_twilio, public_programme(client), "09:00", language="de")
    with _browser(page_server) as phone:
        assert '<html lang="fr" dir="ltr">' in phone.get(booked.path).text


def test_confirm_then_cancel_after_asking_once_more_frees_the_slot(
    page_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with page_server.client() as client:
        prog = public_programme(client)
        booked = book_and_read_link(client, fake_twilio, prog, "09:00", weeks=2)
        assert booked.start not in slot_starts(client, prog, upcoming(3, weeks_ahead=2))
    with _browser(page_server) as phone:
        key = form_key(phone.get(booked.path).text)
        for _ in range(2):  # idempotent: the second click changes nothing
            confirmed = phone.post(f"{booked.path}/confirm", data={"csrf": key})
            assert (confirmed.status_code, confirmed.headers["location"]) == (303, booked.path)
            assert _status(page_server, booked.id) == "confirmed"
        page = phone.get(booked.path).text
        assert 'data-state="confirmed"' in page and "Vous avez confirmé votre venue" in page
        assert "/confirm" not in page
        step = phone.get(f"{booked.path}/cancel")
        assert step.status_code == 200 and "Voulez-vous vraiment annuler" in step.text
        assert _status(page_server, booked.id) == "confirmed"  # asking is not cancelling
        for _ in range(2):
            cancelled = phone.post(f"{booked.path}/cancel", data={"csrf": form_key(step.text)})
            assert (cancelled.status_code, cancelled.headers["location"]) == (303, booked.path)
            assert _status(page_server, booked.id) == "cancelled"
        page = phone.get(booked.path).text
        assert 'data-state="cancelled"' in page and "Ce rendez-vous est annulé." in page
        # No confirm or cancel form any more (the page now offers other times to book instead).
        assert f'action="{booked.path}/confirm"' not in page and f'action="{booked.path}/cancel"' not in page
        # A late "confirm" (an old tab) does not bring a cancelled appointment back.
        assert phone.post(f"{booked.path}/confirm", data={"csrf": key}).status_code == 303
        assert _status(page_server, booked.id) == "cancelled"
    with page_server.client() as client:
        assert booked.start in slot_starts(client, prog, upcoming(3, weeks_ahead=2))


def _random_token() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))


def _set_link(server: RunningServer, appointment_id: str, **values: object) -> None:
    async def change() -> None:
        db = Database.from_url(server.database.url)
        try:
            async with db.write() as session:
                await session.execute(update(FamilyLink).where(FamilyLink.appointment_id == appointment_id)  # type: ignore[arg-type]
                                      .values(**values))
        finally:
            await db.dispose()

    asyncio.run(change())


def test_a_wrong_expired_or_revoked_link_answers_the_same_404(
    page_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with page_server.client() as client:
        expiring = book_and_read_link(client, fake_twilio, public_programme(client), "10:00", weeks=2)
        revoked = book_and_read_link(client, fake_twilio, public_programme(client), "11:00", weeks=2)
    with _browser(page_server) as phone:
        keys = {booked.id: form_key(phone.get(booked.path).text) for booked in (expiring, revoked)}
    past = datetime.now(UTC) - timedelta(minutes=1)
    _set_link(page_server, expiring.id, expires_at=past)
    with page_server.client() as client:
        assert client.delete(f"/v1/appointments/{revoked.id}/family-link").status_code == 204
        assert client.delete(f"/v1/appointments/{revoked.id}/family-link").status_code == 204  # idempotent
        unknown = client.delete("/v1/appointments/nope/family-link")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "not-found")
        # Moving the appointment refreshes its link's expiry, not a revocation.
        moved = client.post(f"/v1/appointments/{revoked.id}/reschedule",
                            json={"start": at(upcoming(3, weeks_ahead=2), "09:00")})
        assert moved.status_code == 200, moved.text
    # The change notice carries no dead link: it gives the site's phone instead.
    number = revoked.appointment["family"]["phone"]
    deadline = time.monotonic() + 20
    while len(texts := [m["body"] for m in fake_twilio.messages if m["to"] == number]) < 2:
        assert time.monotonic() < deadline, "no change notice reached the fake Twilio"
        time.sleep(0.1)
    assert "/r/" not in texts[1] and texts[1].endswith("appelez le 01 43 94 33 00.")
    paths = [
        f"/r/{_random_token()}",
        "/r/short",
        "/r/" + "a" * 300,
        "/r/abc%2Fdef%3F.x",
        expiring.path,
        revoked.path,
    ]
    with _browser(page_server) as phone:
        answers = [phone.get(path) for path in paths]
        assert {(answer.status_code, answer.text) for answer in answers} == {(404, answers[0].text)}
        assert "Lien introuvable" in answers[0].text
        # Nor can a dead link act, even with the form value it once carried.
        for booked in (expiring, revoked):
            dead = phone.post(f"{booked.path}/cancel", data={"csrf": keys[booked.id]})
            assert (dead.status_code, dead.text) == (404, answers[0].text)
    assert _status(page_server, expiring.id) == _status(page_server, revoked.id) == "booked"


def test_a_form_without_the_link_s_own_csrf_value_is_refused(
    page_server: RunningServer, fake_twilio: FakeTwilio
) -> None:
    with page_server.client() as client:
        prog = public_programme(client)
        mine = book_and_read_link(client, fake_twilio, prog, "09:00", weeks=3)
        other = book_and_read_link(client, fake_twilio, prog, "10:00", weeks=3)
    with _browser(page_server) as phone:
        others_key = form_key(phone.get(other.path).text)
        for data in ({}, {"csrf": ""}, {"csrf": "0" * 32}, {"csrf": others_key}):
            for action in ("confirm", "cancel"):
                refused = phone.post(f"{mine.path}/{action}", data=data)
                assert refused.status_code == 403 and 'lang="fr"' in refused.text
        # A JSON body carries no form value: refused as well.
        assert (
            phone.post(f"{mine.path}/cancel", json={"csrf": form_key(phone.get(mine.path).text)}).status_code
            == 403
        )
    assert _status(page_server, mine.id) == "booked"


def test_requests_are_rate_limited_per_link_and_per_address(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, secret_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    limits = {
        "CRENEAU_FAMILY_PAGE_PER_TOKEN_PER_MINUTE": "4",
        "CRENEAU_FAMILY_PAGE_PER_ADDRESS_PER_MINUTE": "14",
        "CRENEAU_SECRET_KEY": secret_key,
    }
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("limits"), **limits) as server:
        with server.client() as client:
            booked = book_and_read_link(
                client, fake_twilio, programme(client, start="14:00", end="16:00"), "14:00"
            )
        with _browser(server) as phone:
            # The family's own visits never use up its link's limit...
            assert [phone.get(booked.path).status_code for _ in range(6)] == [200] * 6
            # ...its link's failures (forged forms) do: 4 are answered, then 429.
            forged = [phone.post(f"{booked.path}/cancel", data={"csrf": "forged"}).status_code
                      for _ in range(5)]
            assert forged == [403, 403, 403, 403, 429]
            limited = phone.get(booked.path)
            assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 60
            assert "Trop de demandes" in limited.text
            # Guessing other tokens from the same address runs into the address's own limit.
            # (12 requests so far count against the address: 2 more are answered, then 429).
            guesses = [phone.get(f"/r/{_random_token()}").status_code for _ in range(4)]
            assert guesses == [404, 404, 429, 429]
        assert _status(server, booked.id) == "booked"


def test_visits_from_anyone_holding_the_link_do_not_lock_the_family_out(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, secret_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    limits = {"CRENEAU_FAMILY_PAGE_PER_TOKEN_PER_MINUTE": "30", "CRENEAU_SECRET_KEY": secret_key}
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("holder"), **limits) as server:
        with server.client() as client:
            prog = programme(client, start="14:00", end="16:00")
            booked = book_and_read_link(client, fake_twilio, prog, "15:00")
        # Someone holding the link visits it from 60 addresses, twice the link's limit...
        visits = [_get_from(server, f"127.0.1.{n}", booked.path).status_code for n in range(1, 61)]
        # ...and the family still opens its page (before: 30 x 200, then 429 for 60 s).
        with _browser(server) as phone:
            assert (visits.count(200), phone.get(booked.path).status_code) == (60, 200)


def test_wrong_links_from_many_addresses_are_capped_per_minute(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, secret_key: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    limits = {"CRENEAU_FAMILY_PAGE_WRONG_TOKENS_PER_MINUTE": str(CAP), "CRENEAU_SECRET_KEY": secret_key}
    with texting_server(module_database, fake_twilio, tmp_path_factory.mktemp("guess"), **limits) as server:
        with server.client() as client:
            prog = programme(client, start="14:00", end="16:00")
            booked = book_and_read_link(client, fake_twilio, prog, "14:00")
        # Six times the cap in guesses, each from its own loopback address (before: all 404, no 429).
        guesses = 6 * CAP
        began = time.monotonic()
        answers = [_get_from(server, f"127.0.{2 + n // 250}.{1 + n % 250}", f"/r/{_random_token()}")
                   for n in range(guesses)]
        # A fixed window of a minute: a slow machine may see the next one start during the run.
        windows = 1 + int((time.monotonic() - began) // 60)
        statuses = [answer.status_code for answer in answers]
        assert statuses[:CAP] == [404] * CAP and statuses[CAP] == 429
        assert statuses.count(404) <= CAP * windows and statuses.count(404) + statuses.count(429) == guesses
        assert 0 < int(answers[-1].headers["retry-after"]) <= 60
        # The right link still opens, for its family, while guessing is capped.
        with _browser(server) as phone:
            assert phone.get(booked.path).status_code == 200


def _get_from(server: RunningServer, address: str, path: str) -> httpx.Response:
    """GET ``path`` from ``address`` (any 127.x.y.z on Linux loopback)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=server.base_url, timeout=30, transport=transport) as client:
        return client.get(path)


@pytest.mark.parametrize(
    ("trusted", "expected"), [("", [404, 429, 429, 429]), ("127.0.0.1", [404, 404, 404, 404])]
)
def test_a_trusted_proxy_gives_each_family_its_own_address_limit(
    module_database: DatabaseHandle, fake_twilio: FakeTwilio, secret_key: str,
    tmp_path_factory: pytest.TempPathFactory, trusted: str, expected: list[int],
) -> None:
    """Behind a reverse proxy every request comes from the proxy: only a trusted one may name the client."""
    limits = {"CRENEAU_FAMILY_PAGE_PER_ADDRESS_PER_MINUTE": "3", "CRENEAU_SECRET_KEY": secret_key,
              "CRENEAU_FORWARDED_ALLOW_IPS": trusted}
    folder = tmp_path_factory.mktemp("proxy")
    with texting_server(module_database, fake_twilio, folder, **limits) as server, _browser(server) as proxy:
        # Four families behind the proxy, three requests each: each family stays within its limit
        # when the proxy is trusted; otherwise all twelve count against the proxy's address.
        answers = [[proxy.get(f"/r/{_random_token()}", headers={"X-Forwarded-For": f"203.0.113.{family}"})
                    .status_code for _ in range(3)] for family in range(1, 5)]
    assert [family[-1] for family in answers] == expected
