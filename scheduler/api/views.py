"""Turning stored rows into API views, with times in the site's zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from notifications.masking import mask_phone
from scheduler.api import schemas as s
from scheduler.services.appointments import AppointmentView


def appointment_out(found: AppointmentView, *, masked: bool = False) -> s.AppointmentOut:
    """An appointment, its times in the site's zone; ``masked``: its phone masked, as in a list
    (the number in clear only in one appointment's answer)."""
    appointment, family = found.appointment, found.family
    phone = appointment.phone or family.phone
    if masked and phone is not None:
        phone = mask_phone(phone)
    zone = ZoneInfo(found.timezone)
    interpreter = None
    if appointment.interpreter_language:
        interpreter = s.AppointmentInterpreterOut(
            language=appointment.interpreter_language, interpreter_id=appointment.interpreter_id,
            status=appointment.interpreter_status or "booked", agency=appointment.interpreter_agency,
            reference=appointment.interpreter_reference,
        )
    return s.AppointmentOut(
        id=appointment.id,
        status=appointment.status,
        start=appointment.starts_at.astimezone(zone),
        end=appointment.ends_at.astimezone(zone),
        service_id=appointment.service_id,
        staff_id=appointment.staff_id,
        site_id=appointment.site_id,
        family=s.FamilyOut(reference=family.reference, phone=phone, language=family.language,
                           sms_consent=family.sms_consent),
        interpreter=interpreter,
        note=appointment.note,
        visit_address=appointment.visit_address,
        created_at=appointment.created_at.astimezone(zone),
    )
