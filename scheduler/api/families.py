"""PATCH /v1/families/{reference} (scope ``appointments:write``): a family's new number.

The explicit change a booking with another number never makes: the family's texts, for its
appointments to come, go to the new number from now on.
"""

from __future__ import annotations

from litestar import Controller, patch
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.phones import normalize_mobile
from scheduler.services import families


class FamilyController(Controller):
    """Families, by their reference."""

    path = "/v1/families"
    tags = ("appointments",)
    guards = (requires("appointments:write"),)

    @patch("/{reference:str}", operation_id="change_family_phone",
           summary="Change a family's number for its appointments to come")
    async def change_phone(
        self, data: s.FamilyPhoneChange, svc: Services, reference: str = Parameter(max_length=64)
    ) -> s.FamilyOut:
        phone = normalize_mobile(data.phone) if data.phone else None
        family = await families.change_phone(svc, reference, phone)
        return s.FamilyOut(reference=family.reference, phone=family.phone, language=family.language,
                           sms_consent=family.sms_consent)
