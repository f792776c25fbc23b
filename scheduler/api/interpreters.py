"""Admin: attach an agency's interpreter to an appointment, and interpreter use figures."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Collaborators
from scheduler.api.inputs import ApiDate
from scheduler.api.views import appointment_out
from scheduler.db import appointments as store
from scheduler.domain.errors import InvalidInput, NotFound
from scheduler.domain.zones import PARIS
from scheduler.services import booking, stats


class ExternalInterpreterController(Controller):
    """An interpreting agency's interpreter, attached by an administrator."""

    path = "/v1/appointments/{appointment_id:str}/interpreter"
    tags = ("interpreters",)
    guards = (requires("admin"),)

    @post("/", operation_id="attach_external_interpreter", summary="Attach an agency's interpreter",
          status_code=200)
    async def attach(
        self, data: s.ExternalInterpreterIn, svc: Collaborators, appointment_id: str = Parameter(max_length=64)
    ) -> s.AppointmentOut:
        async with svc.db.write() as session:
            await booking.attach_external_interpreter(session, svc.planner, appointment_id, data.language,
                                                      data.agency, data.reference, svc.clock.now())
            found = await store.view(session, appointment_id)
        if found is None:
            raise NotFound("appointment", appointment_id)
        return appointment_out(found)


class StatsController(Controller):
    """Figures the programmes report."""

    path = "/v1/stats"
    tags = ("figures",)
    guards = (requires("admin"),)

    @get("/interpreters", operation_id="interpreter_use", summary="Interpreter use per language and month")
    async def interpreter_use(
        self, svc: Collaborators,
        from_: Annotated[ApiDate, Parameter(query="from", description="First local date.")],
        to: Annotated[ApiDate, Parameter(description="Last local date (at most 3 years after `from`).")],
    ) -> s.Page[s.InterpreterUseOut]:
        if to < from_ or to - from_ > timedelta(days=3 * 366):
            raise InvalidInput("`to` must be after `from` and within 3 years of it.")
        start = datetime.combine(from_, time(0), PARIS)
        end = datetime.combine(to + timedelta(days=1), time(0), PARIS)
        async with svc.db.read() as session:
            rows = await stats.interpreter_use(session, start, end)
        items = [s.InterpreterUseOut(language=language, month=month, appointments=count, external=external)
                 for language, month, count, external in rows]
        return s.Page(items=items, next_cursor=None)
