"""Admin: attach an agency's interpreter to an appointment, and interpreter use figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Services
from scheduler.api.inputs import ApiDate
from scheduler.api.views import appointment_out
from scheduler.domain.errors import InvalidInput
from scheduler.services import appointments, stats


class ExternalInterpreterController(Controller):
    """An interpreting agency's interpreter, attached by an administrator."""

    path = "/v1/appointments/{appointment_id:str}/interpreter"
    tags = ("interpreters",)
    guards = (requires("admin"),)

    @post("/", operation_id="attach_external_interpreter", summary="Attach an agency's interpreter",
          status_code=200)
    async def attach(
        self, request: Request[Principal, Any, Any], data: s.ExternalInterpreterIn, svc: Services,
        appointment_id: str = Parameter(max_length=64),
    ) -> s.AppointmentOut:
        found = await appointments.attach_external_interpreter(
            svc, request.user, appointment_id, data.language, data.agency, data.reference
        )
        return appointment_out(found)


class StatsController(Controller):
    """Figures the programmes report."""

    path = "/v1/stats"
    tags = ("figures",)
    guards = (requires("admin"),)

    @get(
        "/interpreters", operation_id="list_interpreter_use", summary="Interpreter use per language and month"
    )
    async def interpreter_use(
        self,
        svc: Services,
        from_: Annotated[ApiDate, Parameter(query="from", description="First local date.")],
        to: Annotated[ApiDate, Parameter(description="Last local date (at most 3 years after `from`).")],
    ) -> s.Page[s.InterpreterUseOut]:
        if to < from_ or to - from_ > timedelta(days=3 * 366):
            raise InvalidInput("`to` must be after `from` and within 3 years of it.")
        rows = await stats.interpreter_use_in(svc, from_, to)
        items = [s.InterpreterUseOut(language=language, month=month, appointments=count, external=external)
                 for language, month, count, external in rows]
        return s.Page(items=items, next_cursor=None)
