"""Past appointments kept in another tool, imported for the figures (all or none)."""

from __future__ import annotations

from litestar import Controller, post

from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.api.report_schemas import AppointmentImport, ImportedAppointment, ImportOut
from scheduler.services import appointment_import as service


class AppointmentImportController(Controller):
    """Administrators bring last year's appointments in: past only, idempotent, no SMS."""

    path = "/v1/appointments/import"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @post("/", operation_id="import_past_appointments", summary="Import past appointments", status_code=200)
    async def import_past(self, data: AppointmentImport, svc: Services) -> ImportOut:
        """Every item is checked first: one wrong item (422 `import-refused`, listing all) imports none."""
        items = [past_appointment(item) for item in data.items]
        result = await service.import_past(svc.db, items, svc.clock.now())
        return ImportOut(imported=result.imported, already_imported=result.already_imported)


def past_appointment(item: ImportedAppointment) -> service.PastAppointment:
    """The service's value from the request's item."""
    return service.PastAppointment(
        item.external_id, item.service_id, item.staff_id, item.site_id, item.start, item.end, item.status,
        item.family.reference, item.family.language)
