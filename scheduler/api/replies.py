"""Families' SMS replies kept for staff (scope ``admin``): per appointment, or all in a period."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.audit import audit_target
from scheduler.api.auth import requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.api.inputs import ApiDate
from scheduler.domain.errors import InvalidInput
from scheduler.services import staff_replies
from scheduler.services.paging import PageOf
from scheduler.services.replies import KeptReply


def _page(found: PageOf[KeptReply]) -> s.Page[s.ReplyOut]:
    items = [s.ReplyOut(id=r.id, appointment_id=r.appointment_id, received_at=r.received_at, text=r.text,
                        sender=r.sender) for r in found.rows]
    return s.Page(items=items, next_cursor=found.next_cursor)


class ReplyController(Controller):
    """Replies that were not OUI, ANNULER or STOP: staff read them and call the family back."""

    path = "/v1"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @get("/appointments/{appointment_id:str}/replies", operation_id="list_appointment_replies",
         summary="List the SMS replies kept for staff about an appointment")
    async def of_appointment(
        self, svc: Services, appointment_id: str = Parameter(max_length=64), limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.ReplyOut]:
        return _page(await staff_replies.of_appointment(svc, appointment_id, cursor, limit))

    @get(
        "/replies",
        operation_id="list_replies",
        summary="List the SMS replies kept for staff, by reception date",
    )
    async def in_period(
        self,
        request: Request[Any, Any, Any],
        svc: Services,
        from_: Annotated[
            ApiDate | None, Parameter(query="from", description="First date (mainland French time).")
        ] = None,
        to: Annotated[ApiDate | None, Parameter(description="Last date (mainland French time).")] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.ReplyOut]:
        if from_ and to and to < from_:
            raise InvalidInput("`to` is before `from`.")
        page = _page(await staff_replies.in_period(svc, from_, to, cursor, limit))
        for item in page.items:
            if item.appointment_id:
                audit_target(request, item.appointment_id, None)
        return page
