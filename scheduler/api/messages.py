"""GET /v1/appointments/{id}/messages (scope ``admin``): what was sent, when, and how it went."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from notifications import outbox
from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.db.tables import Appointment
from scheduler.services import admin


class MessageController(Controller):
    """An appointment's SMS."""

    path = "/v1/appointments/{appointment_id:str}/messages"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @get("/", operation_id="list_appointment_messages", summary="List an appointment's SMS")
    async def list_messages(
        self, svc: Services, appointment_id: str = Parameter(max_length=64)
    ) -> s.Page[s.MessageOut]:
        async with svc.db.read() as session:
            await admin.get(session, Appointment, appointment_id, "appointment")
            rows = await outbox.for_appointment(session, appointment_id)
        items = [
            s.MessageOut(id=row.id, recipient=row.recipient, kind=row.kind, status=row.status,
                         due_at=row.due_at, to=row.to_masked, segments=row.segments,
                         provider_status=row.provider_status, error_code=row.error_code, sent_at=row.sent_at)
            for row in rows
        ]
        return s.Page(items=items, next_cursor=None)
