"""The public representation of an appointment, as ``GET /v1/appointments/{id}`` shows it.

One definition of the shape, read by the API (which validates it into its schema) and by the
event history (which keeps it, without the family's phone, as the event's snapshot).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.db.appointments import AppointmentView


def appointment_json(found: AppointmentView, *, times_as_text: bool = True) -> dict[str, Any]:
    """The appointment as JSON, its times in the site's zone (as ISO text, or as aware datetimes for
    a caller that validates them into a schema: no round trip through text)."""
    appointment, family = found.appointment, found.family
    zone = ZoneInfo(found.timezone)

    def local(moment: datetime | None) -> str | datetime | None:
        if moment is None:
            return None
        shown = moment.astimezone(zone)
        return shown.isoformat() if times_as_text else shown

    return {
        "id": appointment.id,
        "status": appointment.status,
        "start": local(appointment.starts_at),
        "end": local(appointment.ends_at),
        "service_id": appointment.service_id,
        "staff_id": appointment.staff_id,
        "site_id": appointment.site_id,
        # The number this appointment's texts go to (older appointments: the family's own).
        "family": {"reference": family.reference, "phone": appointment.phone or family.phone,
                   "language": family.language, "sms_consent": family.sms_consent},
        "interpreter": _interpreter(found),
        "note": appointment.note,
        "visit_address": appointment.visit_address,
        "attendees": appointment.attendees,
        "pathway_id": appointment.pathway_id,
        "created_at": local(appointment.created_at),
        "updated_at": local(appointment.updated_at),
        "cancelled_at": local(appointment.cancelled_at),
        "cancelled_by": appointment.cancelled_by,
        "cancel_reason": appointment.cancel_reason,
    }


def _interpreter(found: AppointmentView) -> dict[str, Any] | None:
    appointment = found.appointment
    if not appointment.interpreter_language:
        return None
    return {"language": appointment.interpreter_language, "interpreter_id": appointment.interpreter_id,
            "status": appointment.interpreter_status or "booked", "agency": appointment.interpreter_agency,
            "reference": appointment.interpreter_reference}
