"""GET /v1/appointments/{id}/messages (scope ``admin``): what was sent, when, and how it went."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.services import messages


class MessageController(Controller):
    """An appointment's SMS."""

    path = "/v1/appointments/{appointment_id:str}/messages"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @get("/", operation_id="list_appointment_messages", summary="List an appointment's SMS")
    async def list_messages(
        self, svc: Services, appointment_id: str = Parameter(max_length=64)
    ) -> s.MessagePage:
        found = await messages.appointment_messages(svc, appointment_id)
        items = [
            s.MessageOut(
                id=view.message.id,
                recipient=view.message.recipient,
                kind=view.message.kind,
                status=view.message.status,
                due_at=view.due_at,
                to=view.to,
                segments=view.message.segments,
                provider_status=view.message.provider_status,
                error_code=view.message.error_code,
                sent_at=view.sent_at,
            )
            for view in found.views
        ]
        return s.MessagePage(items=items, next_cursor=None, family_not_texted=found.family_not_texted)
