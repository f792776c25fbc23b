"""Turning stored rows into API views, with times in the site's zone."""

from __future__ import annotations

from scheduler.api import schemas as s
from scheduler.services.appointment_json import appointment_json
from scheduler.services.appointments import AppointmentView


def appointment_out(found: AppointmentView) -> s.AppointmentOut:
    """An appointment, its times in the site's zone (the one shape: ``appointment_json``)."""
    return s.AppointmentOut.model_validate(appointment_json(found))
