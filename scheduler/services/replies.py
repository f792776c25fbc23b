"""A family's SMS reply: confirm, cancel, withdraw consent, or keep it for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.inbox import Action, reply_words
from notifications.masking import mask_phone
from scheduler.db import inbox, outbox
from scheduler.db.tables import Appointment
from scheduler.domain.events import FAMILY
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner

KEPT_BODY_CHARS = 500


@dataclass(frozen=True, slots=True)
class KeptReply:
    """A reply kept for staff, as they may read it: the sender's number masked."""

    id: str
    appointment_id: str | None
    received_at: datetime
    text: str
    sender: str


@dataclass(frozen=True, slots=True)
class ReplyFilter:
    """Which kept replies to list: of one appointment, received in ``[since, before)``, after a cursor."""

    appointment_id: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    after: tuple[datetime, str] | None = None


async def handle_reply(
    session: AsyncSession, planner: MessagePlanner, provider_id: str, phone: str, text: str, now: datetime
) -> Action | None:
    """Act on a reply from ``phone``; None for an unknown number or a reply already handled."""
    families = await inbox.families_of(session, phone)
    if not families:
        return None
    action = reply_words().action(text)
    appointment = await inbox.next_appointment(session, families, booking.ACTIVE, now)
    if not await _record(session, provider_id, families[0], appointment, action, text, now):
        return None  # Twilio retried the webhook: the first delivery already acted
    if action == "stop":
        await _withdraw_consent(session, families, now)
    elif appointment is not None and action == "confirm":
        await booking.confirm(session, appointment.id, now, actor=FAMILY)
    elif appointment is not None and action == "cancel":
        await booking.cancel(session, planner, appointment.id, "cancelled by the family (SMS)", now, actor=FAMILY)
    return action


async def _record(
    session: AsyncSession, provider_id: str, family_id: str, appointment: Appointment | None, action: Action,
    text: str, now: datetime,
) -> bool:
    return await inbox.record(session, {
        "provider_id": provider_id, "family_id": family_id, "appointment_id": appointment.id if appointment else None,
        "action": action,
        # Keywords are acted upon; only other replies are kept, for staff to read.
        "body": text[:KEPT_BODY_CHARS] if action == "keep" else None, "received_at": now,
    })


async def _withdraw_consent(session: AsyncSession, families: list[str], now: datetime) -> None:
    await inbox.withdraw_consent(session, families, now)
    await outbox.cancel_pending_for_families(session, families, now)


async def kept_replies(session: AsyncSession, where: ReplyFilter, limit: int) -> Sequence[KeptReply]:
    """Up to ``limit + 1`` kept replies in order of reception (the extra one tells of a next page).

    Times are given in the appointment site's zone (UTC for a reply with no appointment) and
    the number masked: the clear number never leaves this function.
    """
    rows = await inbox.kept(session, where.appointment_id, where.since, where.before, where.after, limit)
    return [
        KeptReply(row.id, row.appointment_id, row.received_at.astimezone(ZoneInfo(row.timezone or "UTC")),
                  row.body, mask_phone(row.phone))
        for row in rows
    ]


def received_instant(reply: KeptReply) -> datetime:
    """The reply's reception in UTC, for the next page's cursor."""
    return reply.received_at.astimezone(UTC)
