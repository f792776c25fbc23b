"""A family's number, changed on purpose: the one way to redirect its texts (a booking never does)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scheduler.db import families
from scheduler.db.tables import Family
from scheduler.domain.errors import NotFound
from scheduler.services import booking

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

log = logging.getLogger("creneau.families")


async def change_phone(deps: Collaborators, reference: str, phone: str | None) -> Family:
    """The family's new number (E.164, or None: no more texts), for it and its appointments to come.

    Texts not yet sent go to the new number; those already sent stay where they went. The change
    is logged with the family's id (never its number or reference).
    """
    now = deps.clock.now()
    async with deps.db.write() as session:
        changed = await families.change_phone(session, reference, phone, booking.ACTIVE, now)
        if changed is None:
            raise NotFound("family", reference)
    family, appointments = changed
    log.info("family phone changed", extra={"family_id": family.id, "appointments": appointments})
    return family
