"""A family's SMS reply: confirm, cancel, withdraw consent, or keep it for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.inbox import Action, reply_words
from notifications.masking import mask_phone
from scheduler.db import inbox, outbox
from scheduler.db.dialect import as_utc
from scheduler.domain.events import FAMILY
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner

KEPT_BODY_CHARS = 500
# Texts about two appointments reaching one number within this time leave a reply's subject unclear.
AMBIGUOUS_WITHIN = timedelta(hours=24)


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
    session: AsyncSession, planner: MessagePlanner, provider_id: str, phone: str, text: str, now: datetime,
    number_digest: str,
) -> Action | None:
    """Act on a reply from ``phone`` (whose keyed digest is ``number_digest``); None for an unknown
    number or a reply already handled.

    A reply is about the appointment the last text to that number was about. When that is not
    clear (texts about several appointments reached the number within ``AMBIGUOUS_WITHIN``, or
    several families share a number no text reached yet), OUI and ANNULER act on nothing: the
    reply is kept for staff. STOP is about the number: every family behind it stops being texted,
    and so will any family booked with it later (``inbox.SmsOptOut``).
    """
    families = await inbox.families_of(session, phone)
    if not families:
        return None
    action = reply_words().action(text)
    about = await _reply_about(session, phone, families, now)
    if about == AMBIGUOUS and action in ("confirm", "cancel"):
        action = "keep"
    appointment = about if isinstance(about, Target) else None
    family_id = appointment.family_id if appointment else families[0]
    if not await _record(session, provider_id, family_id, appointment, action, text, now):
        return None  # Twilio retried the webhook: the first delivery already acted
    if action == "stop":
        await inbox.opt_out(session, number_digest, now)
        await _withdraw_consent(session, families, now)
    elif appointment is not None and appointment.active and action == "confirm":
        await booking.confirm(session, appointment.id, now, actor=FAMILY)
    elif appointment is not None and appointment.active and action == "cancel":
        await booking.cancel(
            session, planner, appointment.id, "cancelled by the family (SMS)", now, actor=FAMILY
        )
    return action


@dataclass(frozen=True, slots=True)
class Target:
    """The appointment a reply is about, and whether it can still be confirmed or cancelled."""

    id: str
    family_id: str
    active: bool


AMBIGUOUS: Final = "ambiguous"


async def _reply_about(
    session: AsyncSession, phone: str, families: list[str], now: datetime
) -> Target | Literal["ambiguous"] | None:
    """The appointment the last text to ``phone`` was about, AMBIGUOUS, or None (nothing to act on)."""
    last = await inbox.last_text(session, phone)
    if last is None:
        if len(families) > 1:
            return AMBIGUOUS
        # No text reached the number yet (the confirmation is still queued): the family's next one.
        upcoming = await inbox.next_appointment(session, families, booking.ACTIVE, now)
        return Target(upcoming.id, upcoming.family_id, True) if upcoming else None
    if await inbox.texted_about_another(session, phone, last.id, as_utc(last.sent) - AMBIGUOUS_WITHIN):
        return AMBIGUOUS
    about = await inbox.appointment(session, last.id)
    active = about.status in booking.ACTIVE and as_utc(about.starts_at) > now
    return Target(about.id, about.family_id, active)


async def _record(
    session: AsyncSession, provider_id: str, family_id: str, appointment: Target | None, action: Action,
    text: str, now: datetime,
) -> bool:
    return await inbox.record(
        session,
        {
            "provider_id": provider_id,
            "family_id": family_id,
            "appointment_id": appointment.id if appointment else None,
            "action": action,
            # Keywords are acted upon; only other replies are kept, for staff to read.
            "body": text[:KEPT_BODY_CHARS] if action == "keep" else None,
            "received_at": now,
        },
    )


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
