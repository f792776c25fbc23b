"""Events: their shape never carries the family's phone; feed cursors; subscriptions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain.errors import InvalidInput
from scheduler.domain.events import (
    Actor,
    Event,
    FeedPosition,
    appointment_data,
    check_subscription,
    event_body,
    event_json,
    subscribed,
)


def test_the_appointment_in_an_event_has_no_phone() -> None:
    view = {"id": "a1", "status": "booked",
            "family": {"reference": "PRE-1", "phone": "+33612345678", "language": "fr", "sms_consent": True}}
    data = appointment_data(view, previous={"start": "2026-11-25T09:00:00+01:00"})
    assert data == {"appointment": {"id": "a1", "status": "booked",
                                    "family": {"reference": "PRE-1", "language": "fr", "sms_consent": True}},
                    "previous": {"start": "2026-11-25T09:00:00+01:00"}}
    assert view["family"]["phone"] == "+33612345678"  # the caller's view is left alone


def test_event_ids_are_opaque_and_distinct() -> None:
    first = Event("appointment.booked", datetime(2026, 11, 25, tzinfo=UTC), Actor("system"), {})
    second = Event("appointment.booked", datetime(2026, 11, 25, tzinfo=UTC), Actor("system"), {})
    assert first.id.startswith("evt_") and len(first.id) == 26 and first.id != second.id


def test_an_event_refuses_an_unknown_type_or_a_naive_time() -> None:
    with pytest.raises(ValueError, match="type"):
        Event("appointment.exploded", datetime(2026, 11, 25, tzinfo=UTC), Actor("system"), {})
    with pytest.raises(ValueError, match="aware"):
        Event("appointment.booked", datetime(2026, 11, 25), Actor("system"), {})


def test_an_api_key_actor_carries_its_id_and_name() -> None:
    assert Actor.api_key("k1", "Partner").as_json() == {"kind": "api-key", "id": "k1", "name": "Partner"}
    with pytest.raises(ValueError):
        Actor("robot")  # type: ignore[arg-type]


def test_cursors_round_trip_and_junk_is_bad_input() -> None:
    assert FeedPosition.decode(FeedPosition(7, 42).encode()) == FeedPosition(7, 42)
    assert FeedPosition.decode(None) == FeedPosition(0, 0)
    for junk in ("abc", "1.x", "-1.2", "1.2.3"):
        with pytest.raises(InvalidInput):
            FeedPosition.decode(junk)


def test_subscriptions() -> None:
    assert subscribed(["*"], "message.failed")
    assert subscribed(["appointment.cancelled"], "appointment.cancelled")
    assert not subscribed(["appointment.cancelled"], "appointment.booked")
    assert check_subscription(["appointment.booked", "*"]) == ["*"]
    assert check_subscription(["appointment.booked", "appointment.booked"]) == ["appointment.booked"]
    with pytest.raises(InvalidInput):
        check_subscription(["appointment.nope"])


@pytest.mark.parametrize(("actor", "cancelled_by"), [
    (Actor.api_key("k1", "case tool"), "api"), (Actor("family"), "family"), (Actor("staff"), "staff"),
    (Actor("system"), "system"),
], ids=["api_key", "family", "staff", "system"])
def test_who_cancelled_is_named_as_the_appointment_says_it(actor: Actor, cancelled_by: str) -> None:
    assert actor.cancelled_by == cancelled_by


@dataclass
class StoredEvent:
    id: str = "evt_1"
    type: str = "appointment.cancelled"
    occurred_at: datetime = datetime(2026, 11, 25, 17, 2, 11, tzinfo=UTC)
    actor_kind: str = "family"
    actor_id: str | None = None
    actor_name: str | None = None
    appointment_id: str | None = "a1"
    data: Any = None


def test_an_event_reads_in_the_site_s_zone_and_its_body_is_compact_json() -> None:
    row = StoredEvent(data={"appointment": {"id": "a1"}})

    shown = event_json(row, ZoneInfo("America/Cayenne"))

    assert shown == {"id": "evt_1", "type": "appointment.cancelled",
                     "occurred_at": "2026-11-25T14:02:11-03:00",
                     "actor": {"kind": "family", "id": None, "name": None}, "appointment_id": "a1",
                     "data": {"appointment": {"id": "a1"}}}
    body = event_body(row, ZoneInfo("Europe/Paris"))
    assert b" " not in body and json.loads(body)["occurred_at"] == "2026-11-25T18:02:11+01:00"


def test_the_feed_filter_offers_exactly_the_domain_event_types() -> None:
    from typing import get_args

    from scheduler.api.events import EventTypeName
    from scheduler.domain.events import EVENT_TYPES

    assert set(get_args(EventTypeName)) == set(EVENT_TYPES)
