"""What Twilio tells us, once its signature is checked: a message's delivery status, a family's reply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.db import outbox
from scheduler.number_digests import NumberDigests
from scheduler.services.replies import handle_reply

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators


async def record_status(
    deps: Collaborators, reference: str, sid: str, status: str, error_code: str | None
) -> None:
    """Apply a status callback to the message it names (see ``outbox.apply_provider_status``)."""
    async with deps.db.write() as session:
        await outbox.apply_provider_status(session, reference, sid, status, error_code, deps.clock.now())


async def receive_reply(deps: Collaborators, sid: str, phone: str, body: str) -> None:
    """Act on a family's SMS reply (see ``replies.handle_reply``)."""
    async with deps.db.write() as session:
        await handle_reply(session, deps.planner, sid, phone, body, deps.clock.now(),
                           NumberDigests.from_settings(deps.settings).of(phone))
