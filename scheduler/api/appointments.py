"""Appointments: book, read, list, cancel, reschedule and record the outcome."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Collaborators, Cursor, IdempotencyKey, Limit, create_idempotently
from scheduler.api.inputs import ApiDate
from scheduler.api.views import appointment_out
from scheduler.db import appointments as store
from scheduler.domain.errors import InvalidInput, NotFound
from scheduler.domain.zones import PARIS
from scheduler.phones import normalize_mobile
from scheduler.services import admin, booking


async def _view(session: AsyncSession, appointment_id: str) -> s.AppointmentOut:
    found = await store.view(session, appointment_id)
    if found is None:
        raise NotFound("appointment", appointment_id)
    return appointment_out(found)


def booking_request(data: s.AppointmentCreate) -> booking.BookingRequest:
    """The service-layer request, with the phone normalised to E.164."""
    family = data.family
    phone = normalize_mobile(family.phone) if family.phone else None
    return booking.BookingRequest(
        service_id=data.service_id,
        start=data.start,
        family=booking.FamilyData(family.reference, phone, family.language, family.sms_consent),
        staff_id=data.staff_id,
        site_id=data.site_id,
        note=data.note,
        interpreter_language=data.interpreter_language,
    )


class AppointmentController(Controller):
    """Appointments (scope ``appointments:write``)."""

    path = "/v1/appointments"
    tags = ("appointments",)
    guards = (requires("appointments:write"),)

    @post("/", operation_id="book_appointment", summary="Book a slot", status_code=201)
    async def book(
        self, request: Request[Principal, Any, Any], data: s.AppointmentCreate, svc: Collaborators,
        idempotency_key: IdempotencyKey = None,
    ) -> s.AppointmentOut:
        wanted = booking_request(data)

        async def operation(session: AsyncSession) -> BaseModel:
            return appointment_out(await booking.book(session, svc.calendar, svc.planner, wanted, svc.clock.now()))

        return await create_idempotently(request, svc, data, idempotency_key, operation)  # type: ignore[return-value]

    @get("/{appointment_id:str}", operation_id="get_appointment", summary="Read an appointment")
    async def read(self, svc: Collaborators, appointment_id: str = Parameter(max_length=64)) -> s.AppointmentOut:
        async with svc.db.read() as session:
            return await _view(session, appointment_id)

    @get("/", operation_id="list_appointments", summary="List appointments")
    async def list_appointments(
        self,
        svc: Collaborators,
        staff_id: Annotated[str | None, Parameter(max_length=64)] = None,
        site_id: Annotated[str | None, Parameter(max_length=64)] = None,
        from_: Annotated[ApiDate | None, Parameter(query="from", description="First local date.")] = None,
        to: Annotated[ApiDate | None, Parameter(description="Last local date.")] = None,
        status: s.AppointmentStatus | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.AppointmentOut]:
        if from_ and to and to < from_:
            raise InvalidInput("`to` is before `from`.")
        where = store.AppointmentFilter(
            staff_id, site_id, status,
            # Dates are read in mainland French time, with a day's margin kept out.
            datetime.combine(from_, time(0), PARIS) if from_ else None,
            datetime.combine(to + timedelta(days=1), time(0), PARIS) if to else None,
        )
        after = None
        if cursor:
            start, ident = admin.decode_cursor(cursor, 2)
            after = (admin.cursor_instant(start), ident)
        async with svc.db.read() as session:
            found = await store.page(session, where, after, limit)
        more = len(found) > limit
        found = found[:limit]
        next_cursor = None
        if more:
            last = found[-1].appointment
            next_cursor = admin.encode_cursor(last.starts_at.isoformat(), last.id)
        return s.Page(items=[appointment_out(item) for item in found], next_cursor=next_cursor)

    @post("/{appointment_id:str}/cancel", operation_id="cancel_appointment", summary="Cancel", status_code=200)
    async def cancel(
        self, svc: Collaborators, data: s.CancelIn | None = None, appointment_id: str = Parameter(max_length=64)
    ) -> s.AppointmentOut:
        async with svc.db.write() as session:
            await booking.cancel(session, svc.planner, appointment_id, data.reason if data else None,
                                 svc.clock.now())
            return await _view(session, appointment_id)

    @post("/{appointment_id:str}/reschedule", operation_id="reschedule_appointment", summary="Move",
          status_code=200)
    async def reschedule(
        self, data: s.RescheduleIn, svc: Collaborators, appointment_id: str = Parameter(max_length=64)
    ) -> s.AppointmentOut:
        async with svc.db.write() as session:
            await booking.reschedule(session, svc.calendar, svc.planner, appointment_id, data.start, data.staff_id,
                                     svc.clock.now())
            return await _view(session, appointment_id)

    @post("/{appointment_id:str}/outcome", operation_id="record_outcome", summary="Record what happened",
          status_code=200)
    async def outcome(
        self, data: s.OutcomeIn, svc: Collaborators, appointment_id: str = Parameter(max_length=64)
    ) -> s.AppointmentOut:
        async with svc.db.write() as session:
            await booking.record_outcome(session, appointment_id, data.status, svc.clock.now())
            return await _view(session, appointment_id)
