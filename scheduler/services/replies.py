"""A family's SMS reply: confirm, cancel, withdraw consent, or keep it for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifications.inbox import Action, reply_words
from notifications.masking import mask_phone
from scheduler.db import outbox
from scheduler.db.holds import dialect_insert
from scheduler.db.inbox import InboundMessage
from scheduler.db.tables import Appointment, Family, Site, new_id
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
    statement = select(col(Family.id)).where(col(Family.phone) == phone)
    families = list((await session.execute(statement)).scalars())
    if not families:
        return None
    action = reply_words().action(text)
    appointment = await _next_appointment(session, families, now)
    if not await _record(session, provider_id, families[0], appointment, action, text, now):
        return None  # Twilio retried the webhook: the first delivery already acted
    if action == "stop":
        await _withdraw_consent(session, families, now)
    elif appointment is not None and action == "confirm":
        await booking.confirm(session, appointment.id, now)
    elif appointment is not None and action == "cancel":
        await booking.cancel(session, planner, appointment.id, "cancelled by the family (SMS)", now)
    return action


async def _next_appointment(session: AsyncSession, families: list[str], now: datetime) -> Appointment | None:
    statement = (
        select(Appointment)
        .where(col(Appointment.family_id).in_(families), col(Appointment.starts_at) > now,
               col(Appointment.status).in_(booking.ACTIVE))
        .order_by(col(Appointment.starts_at))
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _record(
    session: AsyncSession, provider_id: str, family_id: str, appointment: Appointment | None, action: Action,
    text: str, now: datetime,
) -> bool:
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    statement = dialect_insert(session, table).values(
        id=new_id(), provider_id=provider_id, family_id=family_id,
        appointment_id=appointment.id if appointment else None, action=action,
        # Keywords are acted upon; only other replies are kept, for staff to read.
        body=text[:KEPT_BODY_CHARS] if action == "keep" else None, received_at=now,
    ).on_conflict_do_nothing(
        index_elements=["provider_id"]
    ).returning(table.c.id)
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def _withdraw_consent(session: AsyncSession, families: list[str], now: datetime) -> None:
    await session.execute(
        update(Family).where(col(Family.id).in_(families)).values(sms_consent=False, updated_at=now)
    )
    await outbox.cancel_pending_for_families(session, families, now)


async def kept_replies(session: AsyncSession, where: ReplyFilter, limit: int) -> Sequence[KeptReply]:
    """Up to ``limit + 1`` kept replies in order of reception (the extra one tells of a next page).

    Times are given in the appointment site's zone (UTC for a reply with no appointment) and
    the number masked: the clear number never leaves this function.
    """
    received, ident = col(InboundMessage.received_at), col(InboundMessage.id)
    conditions = [col(InboundMessage.action) == "keep", col(InboundMessage.body).is_not(None)]
    if where.appointment_id is not None:
        conditions.append(col(InboundMessage.appointment_id) == where.appointment_id)
    if where.since is not None:
        conditions.append(received >= where.since)
    if where.before is not None:
        conditions.append(received < where.before)
    if where.after is not None:
        at, last = where.after
        conditions.append(or_(received > at, and_(received == at, ident > last)))
    statement = (
        select(ident, col(InboundMessage.appointment_id), received, col(InboundMessage.body), col(Family.phone),
               col(Site.timezone))
        .select_from(InboundMessage)
        .outerjoin(Family, col(Family.id) == col(InboundMessage.family_id))
        .outerjoin(Appointment, col(Appointment.id) == col(InboundMessage.appointment_id))
        .outerjoin(Site, col(Site.id) == col(Appointment.site_id))
        .where(*conditions)
        .order_by(received, ident)
        .limit(limit + 1)
    )
    return [
        KeptReply(row.id, row.appointment_id, row.received_at.astimezone(ZoneInfo(row.timezone or "UTC")),
                  row.body, mask_phone(row.phone))
        for row in (await session.execute(statement)).all()
    ]


def received_instant(reply: KeptReply) -> datetime:
    """The reply's reception in UTC, for the next page's cursor."""
    return reply.received_at.astimezone(UTC)
