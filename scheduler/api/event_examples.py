"""Examples of the event and webhook schemas for the OpenAPI document (merged into ``api/examples.py``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from scheduler.api import event_schemas as e

APPOINTMENT_ID = "e1f2a3b4c5d6478899aabbccddeeff00"
ENDPOINT_ID = "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0"
CANCELLED_AT = "2026-11-25T18:02:11+01:00"
SNAPSHOT = {
    "id": APPOINTMENT_ID, "status": "cancelled", "start": "2026-11-27T09:00:00+01:00",
    "end": "2026-11-27T10:00:00+01:00", "service_id": "c2d4e6f8a0b24c6e8f0a1b2c3d4e5f60",
    "staff_id": "5f0c3b9e7a2d4c61b8e0f1a2c3d4e5f6", "site_id": "9a1e5c0f2b7d4e68a3c1f0d2b4e6a8c0",
    "family": {"reference": "PRE-2026-014", "language": "fr", "sms_consent": True},
    "interpreter": None, "note": None, "attendees": None, "pathway_id": None,
    "created_at": "2026-11-20T14:03:00+01:00", "updated_at": CANCELLED_AT,
    "cancelled_at": CANCELLED_AT, "cancelled_by": "api", "cancel_reason": "Family moved away",
}
EVENT = {
    "id": "evt_2Zr8kQ4mX7pL1vN9bT3cWg", "type": "appointment.cancelled", "occurred_at": CANCELLED_AT,
    "actor": {"kind": "api-key", "id": "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7", "name": "case-management tool"},
    "appointment_id": APPOINTMENT_ID,
    "data": {"appointment": SNAPSHOT},
}
ENDPOINT = {"url": "https://partner.example/hooks/creneau", "events": ["appointment.cancelled"],
            "description": "case-management tool"}
ENDPOINT_OUT = {"id": ENDPOINT_ID, **ENDPOINT, "disabled": False, "disabled_reason": None,
                "created_at": "2026-11-20T14:03:00+01:00", "updated_at": "2026-11-20T14:03:00+01:00"}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0UNVE4kwS8M="

EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    e.ActorOut: EVENT["actor"],  # type: ignore[dict-item]
    e.EventOut: EVENT,
    e.EventList: {"items": [EVENT]},
    e.EventFeedPage: {"items": [EVENT], "next_cursor": "48213.1907"},
    e.WebhookEndpointCreate: ENDPOINT,
    e.WebhookEndpointUpdate: {"events": ["*"]},
    e.WebhookEndpointOut: ENDPOINT_OUT,
    e.WebhookEndpointCreated: {**ENDPOINT_OUT, "secret": SECRET},
    e.WebhookSecret: {"secret": SECRET},
    e.WebhookDeliveryOut: {"id": "6b7c8d9e0f1a42b3c4d5e6f7a8b9c0d1", "event_id": EVENT["id"],
                           "event_type": "appointment.cancelled", "status": "pending", "attempts": 2,
                           "last_attempt_at": "2026-11-25T18:02:17+01:00", "last_status_code": 503,
                           "last_error": "HTTP 503", "next_attempt_at": "2026-11-25T18:07:17+01:00"},
    e.ReplayIn: {"since": "2026-11-25T00:00:00+01:00"},
    e.ReplayQueued: {"queued": 42},
}
