"""DELETE /v1/appointments/{id}/family-link (scope ``admin``): the family's page link stops answering.

For when a phone changed hands or a link was forwarded: the page then answers the same 404 as
an unknown link, for good (a later move of the appointment keeps it revoked).
"""

from __future__ import annotations

from litestar import Controller, delete
from litestar.params import Parameter

from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.services import appointments


class FamilyLinkController(Controller):
    """The page link of an appointment's SMS."""

    path = "/v1/appointments/{appointment_id:str}/family-link"
    tags = ("appointments",)
    guards = (requires("admin"),)

    @delete("/", operation_id="revoke_family_link", summary="Revoke the family's page link")
    async def revoke(self, svc: Services, appointment_id: str = Parameter(max_length=64)) -> None:
        await appointments.revoke_family_link(svc, appointment_id)
