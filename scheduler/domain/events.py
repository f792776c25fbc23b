"""Events: what changed, who changed it, and the public shape every reader of the history gets.

Pure: no session, no clock. The service layer builds an ``Event`` and appends it in the same
transaction as the change it records.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Final, Literal, Protocol

from scheduler.domain.errors import InvalidInput

APPOINTMENT_BOOKED: Final = "appointment.booked"
APPOINTMENT_CONFIRMED: Final = "appointment.confirmed"
APPOINTMENT_RESCHEDULED: Final = "appointment.rescheduled"
APPOINTMENT_CANCELLED: Final = "appointment.cancelled"
APPOINTMENT_OUTCOME_RECORDED: Final = "appointment.outcome_recorded"
APPOINTMENT_INTERPRETER_CHANGED: Final = "appointment.interpreter_changed"
MESSAGE_FAILED: Final = "message.failed"
PATHWAY_BOOKED: Final = "pathway.booked"
PATHWAY_CLOSED: Final = "pathway.closed"
WAITLIST_OFFERED: Final = "waitlist.offered"
WAITLIST_CLAIMED: Final = "waitlist.claimed"

EVENT_TYPES: Final = (
    APPOINTMENT_BOOKED, APPOINTMENT_CONFIRMED, APPOINTMENT_RESCHEDULED, APPOINTMENT_CANCELLED,
    APPOINTMENT_OUTCOME_RECORDED, APPOINTMENT_INTERPRETER_CHANGED, MESSAGE_FAILED, PATHWAY_BOOKED,
    PATHWAY_CLOSED, WAITLIST_OFFERED, WAITLIST_CLAIMED,
)
ALL_TYPES: Final = "*"
"""A webhook endpoint subscribed to ``["*"]`` receives every type."""

ActorKind = Literal["family", "api-key", "staff", "system"]
ACTOR_KINDS: Final = ("family", "api-key", "staff", "system")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an API key (its id and name), the family, staff, or the service itself."""

    kind: ActorKind
    id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    @classmethod
    def api_key(cls, key_id: str, name: str) -> Actor:
        """An API key, named as its owner named it."""
        return cls("api-key", key_id, name)

    @property
    def cancelled_by(self) -> str:
        """The appointment's ``cancelled_by`` when this actor cancels it: family, api, staff or system."""
        return "api" if self.kind == "api-key" else self.kind

    def as_json(self) -> dict[str, str | None]:
        """The event's ``actor`` object."""
        return {"kind": self.kind, "id": self.id, "name": self.name}


SYSTEM: Final = Actor("system")
FAMILY: Final = Actor("family")
STAFF: Final = Actor("staff")


def new_event_id() -> str:
    """``evt_`` and 22 URL-safe random characters (128 bits): opaque, unguessable, sortable by nothing."""
    return "evt_" + secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded change, ready to append."""

    type: str
    occurred_at: datetime
    actor: Actor
    data: dict[str, Any]
    appointment_id: str | None = None
    site_id: str | None = None
    pathway_id: str | None = None
    id: str = field(default_factory=new_event_id)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.occurred_at.tzinfo is None:
            raise ValueError("an event's time must be aware")


def appointment_data(appointment: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event's ``data``: the appointment as the API shows it, without the family's phone.

    Args:
        appointment: the appointment's API view, as JSON.
        previous: where and when it was before a move (``start``, ``end``, ``staff_id``, ``site_id``).
    """
    view = dict(appointment)
    family = view.get("family")
    if isinstance(family, dict):
        view["family"] = {key: value for key, value in family.items() if key != "phone"}
    data: dict[str, Any] = {"appointment": view}
    if previous is not None:
        data["previous"] = previous
    return data


class RecordedEvent(Protocol):
    """An event as stored: what the public rendering reads."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def actor_kind(self) -> str: ...
    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_name(self) -> str | None: ...
    @property
    def appointment_id(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any]: ...


def event_json(row: RecordedEvent, zone: tzinfo) -> dict[str, Any]:
    """One event as the feed, the history and the webhooks show it, ``occurred_at`` in ``zone``."""
    return {
        "id": row.id, "type": row.type, "occurred_at": row.occurred_at.astimezone(zone).isoformat(),
        "actor": {"kind": row.actor_kind, "id": row.actor_id, "name": row.actor_name},
        "appointment_id": row.appointment_id, "data": row.data,
    }


def event_body(row: RecordedEvent, zone: tzinfo) -> bytes:
    """The webhook body: the event object as compact JSON (the same bytes on every attempt)."""
    return json.dumps(event_json(row, zone), ensure_ascii=False, separators=(",", ":")).encode()


def subscribed(wanted: list[str], event_type: str) -> bool:
    """True when an endpoint subscribed to ``wanted`` receives ``event_type``."""
    return ALL_TYPES in wanted or event_type in wanted


def check_subscription(wanted: list[str]) -> list[str]:
    """The endpoint's event types, each known (or ``["*"]``), without repeats; InvalidInput otherwise."""
    unknown = [name for name in wanted if name != ALL_TYPES and name not in EVENT_TYPES]
    if unknown or not wanted:
        raise InvalidInput("`events` lists event types (" + ", ".join(EVENT_TYPES) + ") or is [\"*\"]"
                           + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return [ALL_TYPES] if ALL_TYPES in wanted else list(dict.fromkeys(wanted))


@dataclass(frozen=True, slots=True, order=True)
class FeedPosition:
    """Where a feed reader stands: the last (transaction id, sequence) it has read.

    The transaction id is 0 on SQLite, where the sequence alone is commit order.
    """

    xid: int = 0
    seq: int = 0

    def encode(self) -> str:
        """The opaque ``next_cursor``."""
        return f"{self.xid}.{self.seq}"

    @classmethod
    def decode(cls, cursor: str | None) -> FeedPosition:
        """The position a cursor names; the start of the feed for None; InvalidInput for junk."""
        if not cursor:
            return cls()
        xid, _, seq = cursor.partition(".")
        if not (xid.isdigit() and seq.isdigit() and len(cursor) <= 60):
            raise InvalidInput("`after` is not a cursor this feed gave.")
        return cls(int(xid), int(seq))
