"""The waiting list (scope ``appointments:write`` to change it, ``appointments:read`` to read it)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api import waitlist_schemas as w
from scheduler.api.auth import requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.domain.waitlist import marked
from scheduler.phones import normalize_phone
from scheduler.services import waitlist
from scheduler.services.booking import FamilyData

READ = (requires("appointments:read"),)
WRITE = (requires("appointments:write"),)
EntryId = Annotated[str, Parameter(max_length=64)]


def _spec(data: w.WaitlistEntryCreate) -> waitlist.EntrySpec:
    family = data.family
    found = None if family is None else FamilyData(
        family.reference, normalize_phone(family.phone) if family.phone else None, family.language,
        family.sms_consent)
    return waitlist.EntrySpec(data.service_id, found, data.site_id, data.staff_id, data.earliest, data.latest,
                              data.appointment_id)


def _out(view: waitlist.EntryView) -> w.WaitlistEntryOut:
    entry = view.entry
    return w.WaitlistEntryOut(
        id=entry.id, status=entry.status, position=view.position, service_id=entry.service_id,
        site_id=entry.site_id, staff_id=entry.staff_id,
        family=w.WaitlistFamilyOut(reference=view.reference, language=view.language),
        earliest=entry.earliest, latest=entry.latest, appointment_id=entry.appointment_id,
        offers_sent=entry.offers_sent, offers_ignored=entry.offers_ignored,
        marked=marked(entry.offers_ignored),
        booked_appointment_id=entry.booked_appointment_id, created_at=entry.created_at)


class WaitlistController(Controller):
    """Families waiting for a time; freed slots are offered to them by SMS, in order of arrival."""

    path = "/v1/waitlist"
    tags = ("waiting list",)

    @post("/", operation_id="create_waitlist_entry", summary="Put a family on the waiting list",
          status_code=201, guards=WRITE)
    async def create(self, data: w.WaitlistEntryCreate, svc: Services) -> w.WaitlistEntryOut:
        return _out(await waitlist.create(svc, _spec(data)))

    @get("/", operation_id="list_waitlist_entries", summary="The waiting list, in order of arrival",
         guards=READ)
    async def list_entries(
        self, svc: Services, service_id: Annotated[str | None, Parameter(max_length=64)] = None,
        status: w.WaitlistStatus | None = None, limit: Limit = 100, cursor: Cursor = None,
    ) -> s.Page[w.WaitlistEntryOut]:
        found = await waitlist.page(svc, service_id, status, cursor, limit)
        return s.Page(items=[_out(view) for view in found.rows], next_cursor=found.next_cursor)

    @get("/{entry_id:str}", operation_id="get_waitlist_entry", summary="Read a waiting list entry",
         guards=READ)
    async def read(self, svc: Services, entry_id: EntryId) -> w.WaitlistEntryOut:
        return _out(await waitlist.get(svc, entry_id))

    @delete("/{entry_id:str}", operation_id="delete_waitlist_entry", summary="Take a family off the list",
            guards=WRITE)
    async def remove(self, svc: Services, entry_id: EntryId) -> None:
        await waitlist.cancel(svc, entry_id)
