"""Request and response bodies of the event feed and the webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from scheduler.api.inputs import ExactBool
from scheduler.api.schemas import Strict, kept

EventTypeName = Annotated[str, Field(min_length=1, max_length=40, examples=["appointment.cancelled"])]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class ActorOut(BaseModel):
    """Who made the change."""

    kind: Literal["family", "api-key", "staff", "system"]
    id: str | None = None
    name: str | None = None


class EventOut(BaseModel):
    """A change, as the history, the feed and the webhooks show it (never with a phone number)."""

    id: str
    type: str
    occurred_at: datetime
    actor: ActorOut
    appointment_id: str | None = None
    data: dict[str, Any]


class EventList(BaseModel):
    """An appointment's events, oldest first."""

    items: list[EventOut]


class EventFeedPage(BaseModel):
    """A page of the event feed; poll again with ``after=next_cursor`` (always given)."""

    items: list[EventOut]
    next_cursor: str


class WebhookEndpointCreate(Strict):
    """Where to POST which events."""

    url: Annotated[str, Field(min_length=1, max_length=2000, examples=["https://partner.example/hooks/creneau"])]
    events: Annotated[
        list[EventTypeName], Field(min_length=1, max_length=20, examples=[["appointment.cancelled"]])
    ]
    description: Annotated[str, Field(max_length=500)] | None = None


class WebhookEndpointUpdate(Strict):
    """Any of the URL, the types, the description; ``disabled: false`` enables it again."""

    url: Annotated[str, Field(min_length=1, max_length=2000)] = kept()
    events: Annotated[list[EventTypeName], Field(min_length=1, max_length=20)] = kept()
    description: Annotated[str, Field(max_length=500)] | None = None
    disabled: ExactBool = kept()


class WebhookEndpointOut(BaseModel):
    """An endpoint (never its secret)."""

    id: str
    url: str
    events: list[str]
    description: str | None = None
    disabled: bool
    disabled_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    """A new endpoint with its signing secret, shown this once."""

    secret: str


class WebhookSecret(BaseModel):
    """The new signing secret, shown this once (the previous one keeps signing for 24 h)."""

    secret: str


class WebhookDeliveryOut(BaseModel):
    """One event's delivery to the endpoint."""

    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


class ReplayIn(Strict):
    """Deliver again every event since then."""

    since: AwareDatetime


class ReplayQueued(BaseModel):
    """How many deliveries were queued."""

    queued: int
