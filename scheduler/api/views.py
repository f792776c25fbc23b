"""Turning stored rows into API views, with times in the site's zone."""

from __future__ import annotations

from notifications.masking import mask_phone
from scheduler.api import schemas as s
from scheduler.services.appointment_json import appointment_json
from scheduler.services.appointments import AppointmentView


def appointment_out(found: AppointmentView, *, masked: bool = False) -> s.AppointmentOut:
    """An appointment, its times in the site's zone (the one shape: ``appointment_json``);
    ``masked``: its phone masked, as in a list (the number in clear only in one appointment's answer)."""
    shown = appointment_json(found, times_as_text=False)
    phone = shown["family"]["phone"]
    if masked and phone is not None:
        shown["family"]["phone"] = mask_phone(phone)
    return s.AppointmentOut.model_validate(shown)
