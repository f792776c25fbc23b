"""Families' SMS replies kept for staff (scope ``admin``): per appointment, or all in a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Collaborators, Cursor, Limit
from scheduler.api.inputs import ApiDate
from scheduler.db.tables import Appointment
from scheduler.domain.errors import InvalidInput
from scheduler.domain.zones import PARIS
from scheduler.services import admin
from scheduler.services.replies import KeptReply, ReplyFilter, kept_replies, received_instant


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    instant, ident = admin.decode_cursor(cursor, 2)
    return admin.cursor_instant(instant), ident


def _page(found: Sequence[KeptReply], limit: int) -> s.Page[s.ReplyOut]:
    shown = found[:limit]
    items = [s.ReplyOut(id=r.id, appointment_id=r.appointment_id, received_at=r.received_at, text=r.text,
                        sender=r.sender) for r in shown]
    more = len(found) > limit
    cursor = admin.encode_cursor(received_instant(shown[-1]).isoformat(), shown[-1].id) if more else None
    return s.Page(items=items, next_cursor=cursor)


class ReplyController(Controller):
    """Replies that were not OUI, ANNULER or STOP: staff read them and call the family back."""

    path = "/v1"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @get("/appointments/{appointment_id:str}/replies", operation_id="list_appointment_replies",
         summary="List the SMS replies kept for staff about an appointment")
    async def of_appointment(
        self, svc: Collaborators, appointment_id: str = Parameter(max_length=64), limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.ReplyOut]:
        where = ReplyFilter(appointment_id=appointment_id, after=_after(cursor))
        async with svc.db.read() as session:
            await admin.get(session, Appointment, appointment_id, "appointment")
            return _page(await kept_replies(session, where, limit), limit)

    @get("/replies", operation_id="list_replies", summary="List the SMS replies kept for staff, by reception date")
    async def in_period(
        self, svc: Collaborators,
        from_: Annotated[ApiDate | None, Parameter(query="from", description="First date (mainland French time).")]
        = None,
        to: Annotated[ApiDate | None, Parameter(description="Last date (mainland French time).")] = None,
        limit: Limit = 100, cursor: Cursor = None,
    ) -> s.Page[s.ReplyOut]:
        if from_ and to and to < from_:
            raise InvalidInput("`to` is before `from`.")
        where = ReplyFilter(
            since=datetime.combine(from_, time(0), PARIS) if from_ else None,
            before=datetime.combine(to + timedelta(days=1), time(0), PARIS) if to else None,
            after=_after(cursor),
        )
        async with svc.db.read() as session:
            return _page(await kept_replies(session, where, limit), limit)
