"""The event feed and an appointment's history (scope ``appointments:read``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get
from litestar.params import Parameter

from scheduler.api import event_schemas as e
from scheduler.api.audit import audit_target
from scheduler.api.auth import requires
from scheduler.api.common import Limit, Services
from scheduler.services import events

# The contract's event types (``domain.events.EVENT_TYPES``), written out so the document lists them.
EventTypeName = Literal[
    "appointment.booked", "appointment.confirmed", "appointment.rescheduled", "appointment.cancelled",
    "appointment.outcome_recorded", "appointment.interpreter_changed", "message.failed", "pathway.booked",
    "pathway.closed", "waitlist.offered", "waitlist.claimed",
]
EventType = Annotated[EventTypeName | None, Parameter(query="type", description="Only events of this type.")]
After = Annotated[str | None, Parameter(
    max_length=60, description="next_cursor of the previous page (none: from the start).")]


class EventController(Controller):
    """Every change to every appointment, in commit order, for polling clients."""

    path = "/v1"
    tags = ("events",)
    guards = (requires("appointments:read"),)

    @get("/events", operation_id="list_events", summary="Follow the event feed")
    async def feed(self, request: Request[Any, Any, Any], svc: Services, after: After = None,
                   event_type: EventType = None, limit: Limit = 100) -> e.EventFeedPage:
        """Events after the cursor, oldest first. A client that polls with ``next_cursor`` never misses an
        event nor sees one twice, even while many transactions commit at once."""
        found = await events.feed(svc, after, event_type, limit)
        items = [e.EventOut.model_validate(item) for item in found.items]
        for appointment_id in dict.fromkeys(item.appointment_id for item in items if item.appointment_id):
            audit_target(request, appointment_id, None)
        return e.EventFeedPage(items=items, next_cursor=found.next_cursor)

    @get("/appointments/{appointment_id:str}/events", operation_id="list_appointment_events",
         summary="An appointment's history")
    async def history(
        self, svc: Services, appointment_id: str = Parameter(max_length=64)
    ) -> e.EventList:
        """Every change to the appointment, oldest first."""
        found = await events.appointment_history(svc, appointment_id)
        return e.EventList(items=[e.EventOut.model_validate(item) for item in found])

