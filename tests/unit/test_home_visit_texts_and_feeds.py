"""A home visit: the family's SMS says "at your home" in every language; the worker's feed, the address."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.compose import AppointmentFacts, message_context
from notifications.texts import APPOINTMENT_EVENTS, MessageContext, default_catalog
from scheduler.feeds.ical import build_feed
from scheduler.services.feeds import shows_visit_addresses
from tests.support.feed_events import appointment, feed_spec
from tests.support.ical import unfolded

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 25, 14, 0, tzinfo=PARIS)
LINK = "https://rdv.exemple.fr/r/Ab3dE5fG7h"
AT_HOME = {"fr": "à votre domicile", "en": "at your home", "pt": "no seu domicílio",
           "ro": "la domiciliul dumneavoastră", "tr": "evinizde", "ar": "في منزلكم"}
BUDGET = {"fr": 2, "en": 2, "pt": 4, "ro": 4, "tr": 4, "ar": 4}
HOME = MessageContext(start=START, site_label="Visites à domicile - Nord de la Seine-Saint-Denis",
                      site_address=None, link=LINK, site_phone="01 43 94 33 00", at_home=True)


@pytest.mark.parametrize("language", sorted(AT_HOME))
@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_a_home_visit_text_says_at_home_within_the_languages_budget(language: str, event: str) -> None:
    sms = default_catalog().render(event, language, HOME)
    assert AT_HOME[language] in sms.body
    assert "Seine-Saint-Denis" not in sms.body
    assert sms.segments.segments <= BUDGET[language]


def test_the_french_home_visit_confirmation_reads_as_written() -> None:
    body = default_catalog().render("appointment_booked", "fr", HOME).body
    assert body == ("Rendez-vous le mercredi 25 novembre à 14h00 : à votre domicile. "
                    f"Pour confirmer ou annuler : {LINK}")


def _facts(kind: str) -> AppointmentFacts:
    return AppointmentFacts(starts_at=START, zone=PARIS, site_label="Visites Nord", site_address="1 rue X",
                            site_kind=kind, site_phone=None)


def test_only_the_familys_text_of_a_home_visit_says_at_home() -> None:
    assert message_context("family", _facts("home"), LINK).at_home
    assert not message_context("interpreter", _facts("home")).at_home
    assert not message_context("family", _facts("office"), LINK).at_home
    assert message_context("family", _facts("home"), LINK).site_address is None


@pytest.mark.parametrize(
    ("owner", "privacy", "shown"),
    [("staff", "full", True), ("staff", "standard", True), ("staff", "busy", False),
     ("site", "full", True), ("site", "standard", False), ("site", "busy", False),
     ("interpreter", "standard", False)],
)
def test_which_feeds_show_a_home_visits_address(owner: str, privacy: str, shown: bool) -> None:
    assert shows_visit_addresses(owner, privacy) is shown  # type: ignore[arg-type]


def test_a_feed_given_the_visit_address_shows_it_as_the_location() -> None:
    visit = appointment(site_kind="home", site_address=None,
                        visit_address="12 rue des Lilas, 93200 Saint-Denis")
    text = unfolded(build_feed(feed_spec("standard"), [visit]))
    assert "LOCATION:visite à domicile : 12 rue des Lilas\\, 93200 Saint-Denis\r\n" in text
    hidden = unfolded(build_feed(feed_spec("standard"), [appointment(site_kind="home")]))
    assert "LOCATION:visite à domicile\r\n" in hidden
    busy = unfolded(build_feed(feed_spec("busy"), [visit]))
    assert "Lilas" not in busy
