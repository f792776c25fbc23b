"""Appointments: book, read, list, cancel, reschedule and record the outcome."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.audit import audit_target
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.api.inputs import ApiDate, query_instant
from scheduler.api.views import appointment_out
from scheduler.domain.errors import InvalidInput
from scheduler.phones import normalize_phone
from scheduler.services import appointments, booking

Key = Request[Principal, Any, Any]
READ = (requires("appointments:read"),)
WRITE = (requires("appointments:write"),)


def booking_request(data: s.AppointmentCreate) -> booking.BookingRequest:
    """The service-layer request, with the phone normalised to E.164 (a landline too: it gets no SMS)."""
    family = data.family
    phone = normalize_phone(family.phone) if family.phone else None
    return booking.BookingRequest(
        service_id=data.service_id,
        start=data.start,
        family=booking.FamilyData(family.reference, phone, family.language, family.sms_consent),
        staff_id=data.staff_id,
        site_id=data.site_id,
        note=data.note,
        interpreter_language=data.interpreter_language,
        visit_address=data.visit_address,
        attendees=data.attendees,
    )


class AppointmentController(Controller):
    """Appointments: changed with scope ``appointments:write``, read with ``appointments:read`` (which
    ``appointments:write`` implies)."""

    path = "/v1/appointments"
    tags = ("appointments",)

    @post("/", operation_id="book_appointment", summary="Book a slot", status_code=201, guards=WRITE)
    async def book(
        self, request: Request[Principal, Any, Any], data: s.AppointmentCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.AppointmentOut:
        wanted = booking_request(data)
        request_key = idempotent(request, data, idempotency_key)
        answer = await appointments.book(svc, request.user, wanted, request_key, appointment_out)
        if isinstance(answer, s.AppointmentOut):
            audit_target(request, answer.id, data.family.reference)
        return created(answer)  # type: ignore[return-value]

    @get("/{appointment_id:str}", operation_id="get_appointment", summary="Read an appointment", guards=READ)
    async def read(
        self, svc: Services, appointment_id: str = Parameter(max_length=64)
    ) -> s.AppointmentOut:
        return appointment_out(await appointments.read(svc, appointment_id))

    @get("/", operation_id="list_appointments", summary="List appointments", guards=READ)
    async def list_appointments(
        self,
        request: Request[Any, Any, Any],
        svc: Services,
        staff_id: Annotated[str | None, Parameter(max_length=64)] = None,
        site_id: Annotated[str | None, Parameter(max_length=64)] = None,
        from_: Annotated[ApiDate | None, Parameter(query="from", description="First local date.")] = None,
        to: Annotated[ApiDate | None, Parameter(description="Last local date.")] = None,
        status: s.AppointmentStatus | None = None,
        service_id: Annotated[str | None, Parameter(max_length=64)] = None,
        family_reference: Annotated[str | None, Parameter(max_length=64)] = None,
        updated_since: Annotated[
            str | None,
            Parameter(
                max_length=40,
                description="Only appointments changed since then (ISO 8601 with its UTC offset).",
            ),
        ] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.AppointmentOut]:
        if from_ and to and to < from_:
            raise InvalidInput("`to` is before `from`.")
        if status is None and "status" in request.query_params:
            # Litestar reads ``status=null`` as no filter; the document names the statuses only.
            raise InvalidInput("`status` must be one of booked, confirmed, cancelled, attended, no_show.")
        found = await appointments.page(svc, staff_id, site_id, status, from_, to, cursor, limit,
                                        service_id=service_id, family_reference=family_reference,
                                        updated_since=query_instant("updated_since", updated_since))
        for item in found.rows:
            audit_target(request, item.appointment.id, item.family.reference)
        return s.Page(items=[appointment_out(item, masked=True) for item in found.rows],
                      next_cursor=found.next_cursor)

    @post(
        "/{appointment_id:str}/cancel",
        operation_id="cancel_appointment",
        summary="Cancel",
        status_code=200,
        guards=WRITE,
    )
    async def cancel(
        self, request: Key, svc: Services, data: s.CancelIn | None = None,
        appointment_id: str = Parameter(max_length=64),
    ) -> s.AppointmentOut:
        reason = data.reason if data else None
        return appointment_out(await appointments.cancel(svc, request.user, appointment_id, reason))

    @post("/{appointment_id:str}/reschedule", operation_id="reschedule_appointment", summary="Move",
          status_code=200, guards=WRITE)
    async def reschedule(
        self,
        request: Key,
        data: s.RescheduleIn,
        svc: Services,
        appointment_id: str = Parameter(max_length=64),
    ) -> s.AppointmentOut:
        return appointment_out(await appointments.reschedule(svc, request.user, appointment_id, data.start,
                                                             data.staff_id, data.site_id))

    @post("/{appointment_id:str}/outcome", operation_id="record_outcome", summary="Record what happened",
          status_code=200, guards=WRITE)
    async def outcome(
        self,
        request: Key,
        data: s.OutcomeIn,
        svc: Services,
        appointment_id: str = Parameter(max_length=64),
    ) -> s.AppointmentOut:
        return appointment_out(
            await appointments.record_outcome(svc, request.user, appointment_id, data.status)
        )
