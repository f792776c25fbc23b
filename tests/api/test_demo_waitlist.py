"""The README's waiting-list walk-through on the demo programmes: cancelling ``demo-rdv-mercredi``
texts the demo's waiting family an offer of that time, and its link books it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial

from scheduler.demo import fill_if_empty
from scheduler.services import waitlist_offers
from tests.api.conftest import InProcess

LINK = re.compile(r"/r/[0-9A-Za-z]{12}\b")
WAITING_PHONE = "+33612345031"  # config/demo/programmes.toml


def test_the_demo_cancellation_turns_into_an_offer_the_family_accepts(app: InProcess) -> None:
    app.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # a Tuesday: the demo's time is the next day
    services = app.client.app.state.services
    assert app.client.blocking_portal.call(fill_if_empty, services.db, app.clock.now())
    [entry] = app.client.get("/v1/waitlist", params={"service_id": "point-ecoute"}).json()["items"]
    assert (entry["family"]["reference"], entry["status"], entry["position"]) == (
        "PRE-2026-031", "waiting", 1)
    assert app.client.post("/v1/appointments/demo-rdv-mercredi/cancel").status_code == 200
    assert app.client.blocking_portal.call(partial(waitlist_offers.offer_round, services, sweep=False)) == 1
    app.dispatch()
    [offer] = [message.body for message in app.sender.outbox if message.to == WAITING_PHONE]
    assert offer.startswith(
        "Une place s'est libérée le mercredi 2 décembre à 14:30 : CCAS, accueil du 1er étage.")
    link = LINK.search(offer)
    assert link is not None
    page = app.client.get(link.group(0), headers={"Authorization": ""}).text
    key = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    start = re.search(r'name="start" value="([^"]+)"', page)
    assert key is not None and start is not None and start.group(1) == "2026-12-02T14:30:00+01:00"
    accepted = app.client.post(f"{link.group(0)}/accept", follow_redirects=False,
                               data={"csrf": key.group(1), "start": start.group(1)})
    assert accepted.status_code == 303
    booked = app.client.get(f"/v1/waitlist/{entry['id']}").json()
    assert booked["status"] == "booked"
    appointment = app.client.get(f"/v1/appointments/{booked['booked_appointment_id']}").json()
    assert (appointment["family"]["reference"], appointment["start"]) == ("PRE-2026-031", start.group(1))
