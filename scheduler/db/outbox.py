"""The outbox's rows and the statements that move them (the rules are ``notifications.outbox``'s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Index, Text, UniqueConstraint, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Column, Field, SQLModel, col

from notifications.outbox import (
    CANCELLED,
    FAILED,
    MAY_HAVE_REACHED,
    PENDING,
    SENDING,
    SENT,
    UNDELIVERED,
    Planned,
    provider_update,
)
from scheduler.db import events
from scheduler.db.dialect import insert_for
from scheduler.db.engine import dialect_name
from scheduler.db.tables import Appointment, new_id
from scheduler.domain.events import MESSAGE_FAILED, SYSTEM, Event

# The states callers read here with the rows (messages shown to staff, metrics, tests).
__all__ = ["CANCELLED", "PENDING", "SENDING", "SENT", "OutboxMessage", "Planned"]


class OutboxMessage(SQLModel, table=True):
    """One SMS to send to a family or an interpreter about an appointment."""

    __tablename__ = "outbox_message"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    appointment_id: str = Field(max_length=32, index=True)
    recipient: str = Field(default="family", max_length=16)
    interpreter_id: str | None = Field(default=None, max_length=32)
    """The interpreter an interpreter's message is for; None: the appointment's current one."""
    kind: str = Field(max_length=40)
    """What the message is among the appointment's, as shown (``reminder-2880@3``), written from the
    three columns below (``notifications.outbox.kind_of``) and never read back to decide anything."""
    event: str = Field(max_length=16)
    """``booked``, ``moved``, ``reminder`` or ``cancelled``."""
    offset_minutes: int | None = None
    """A reminder's lead time; None for the default policy's morning reminder (and other events)."""
    sequence: int | None = None
    """The appointment's sequence when the message was queued; None for the first booking notice."""
    status: str = Field(default=PENDING, max_length=16)
    due_at: datetime
    expires_at: datetime | None = None
    attempts: int = 0
    needs_lookup: bool = False
    lease_until: datetime | None = None
    claimed_at: datetime | None = None
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    to_masked: str | None = Field(default=None, max_length=32)
    segments: int | None = None
    encoding: str | None = Field(default=None, max_length=8)
    provider_id: str | None = Field(default=None, max_length=64, index=True)
    provider_status: str | None = Field(default=None, max_length=20)
    error_code: str | None = Field(default=None, max_length=40)
    error_detail: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    __table_args__ = (
        UniqueConstraint("appointment_id", "recipient", "kind", name="uq_outbox_once"),
        Index("ix_outbox_status_due", "status", "due_at"),
    )


TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]


ENQUEUE: Final = {name: insert_for(name, TABLE).on_conflict_do_nothing() for name in ("postgresql", "sqlite")}


async def enqueue(session: AsyncSession, planned: Sequence[Planned], now: datetime) -> None:
    """Queue messages; one already queued for the same appointment, recipient and kind is kept."""
    if not planned:
        return
    # One statement built once per database, run for all the rows at once (executemany).
    await session.execute(ENQUEUE[dialect_name(session)], rows(planned, now))


def rows(planned: Sequence[Planned], now: datetime) -> list[dict[str, Any]]:
    """The outbox rows of planned messages, pending from ``now``."""
    return [
        {"id": new_id(), "appointment_id": p.appointment_id, "recipient": p.recipient, "kind": p.kind,
         "event": p.event, "offset_minutes": p.offset_minutes, "sequence": p.sequence,
         "interpreter_id": p.interpreter_id, "body": p.body, "status": PENDING, "due_at": p.due_at,
         "expires_at": p.expires_at, "attempts": 0,
         "needs_lookup": False, "created_at": now, "updated_at": now}
        for p in planned
    ]


async def cancel_pending(
    session: AsyncSession, appointment_id: str, now: datetime, recipient: str | None = None,
    interpreter_id: str | None = None,
) -> int:
    """Cancel the messages of an appointment that were not handed to the provider yet.

    ``interpreter_id`` keeps to that interpreter's messages (and those queued before messages
    named their interpreter, which went to the appointment's interpreter of the time).
    """
    where = [TABLE.c.appointment_id == appointment_id, TABLE.c.status == PENDING]
    if recipient:
        where.append(TABLE.c.recipient == recipient)
    if interpreter_id:
        where.append(or_(TABLE.c.interpreter_id == interpreter_id, TABLE.c.interpreter_id.is_(None)))
    result = await session.execute(update(TABLE).where(*where).values(status=CANCELLED, updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_pending_for_families(session: AsyncSession, family_ids: Sequence[str], now: datetime) -> int:
    """Cancel every text not yet handed to the provider for these families (consent withdrawn)."""
    appointments = select(col(Appointment.id)).where(col(Appointment.family_id).in_(family_ids))
    result = await session.execute(
        update(TABLE)
        .where(TABLE.c.appointment_id.in_(appointments), TABLE.c.recipient == "family",
               TABLE.c.status == PENDING)
        .values(status=CANCELLED, error_code="no-consent", updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def recipients_told(session: AsyncSession, appointment_id: str, interpreter_id: str | None) -> set[str]:
    """Who may have had a text about the appointment: ``family``, and ``interpreter`` when the
    interpreter booked now (``interpreter_id``) had one (or one queued before texts named theirs)."""
    interpreter = or_(TABLE.c.interpreter_id == interpreter_id, TABLE.c.interpreter_id.is_(None))
    statement = select(TABLE.c.recipient).distinct().where(
        TABLE.c.appointment_id == appointment_id,
        TABLE.c.status.in_(MAY_HAVE_REACHED),
        or_(TABLE.c.recipient == "family", and_(TABLE.c.recipient == "interpreter", interpreter)),
    )
    return set((await session.execute(statement)).scalars())


async def claim(session: AsyncSession, now: datetime, lease: timedelta, batch: int) -> list[Any]:
    """Take up to ``batch`` due messages for this worker, safely across processes.

    Due means pending and due, or stuck in ``sending`` past its lease (a crashed worker): those
    come back with ``needs_lookup`` so the provider is asked before anything is resent. On
    PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so concurrent workers never
    claim the same row; SQLite serialises writers (BEGIN IMMEDIATE) and ignores the clause.
    """
    due = or_(
        and_(TABLE.c.status == PENDING, TABLE.c.due_at <= now),
        and_(TABLE.c.status == SENDING, TABLE.c.lease_until < now),
    )
    pick = (select(TABLE.c.id).where(due).order_by(TABLE.c.due_at).limit(batch)
            .with_for_update(skip_locked=True))
    stuck = TABLE.c.status == SENDING
    statement = (
        update(TABLE)
        .where(TABLE.c.id.in_(pick.scalar_subquery()))
        # claimed_at keeps the first claim: a lookup before a resend searches from there on.
        .values(status=SENDING, lease_until=now + lease, claimed_at=func.coalesce(TABLE.c.claimed_at, now),
                attempts=TABLE.c.attempts + 1,
                needs_lookup=or_(TABLE.c.needs_lookup, stuck), updated_at=now)
        .returning(TABLE.c.id, TABLE.c.appointment_id, TABLE.c.recipient, TABLE.c.event, TABLE.c.attempts,
                   TABLE.c.needs_lookup, TABLE.c.body, TABLE.c.expires_at, TABLE.c.claimed_at)
    )
    return list((await session.execute(statement)).all())


async def record(session: AsyncSession, message_id: str, **values: Any) -> None:
    """Set fields of one message (a state transition decided by the dispatcher)."""
    await session.execute(update(TABLE).where(TABLE.c.id == message_id).values(**values))


# What a status callback writes (apply_provider_status): the provider's word on these is newer
# than the dispatcher's once the message has left 'sending'.
_CALLBACK_FIELDS = frozenset({"status", "provider_status", "provider_id", "error_code", "error_detail"})


async def record_claimed(session: AsyncSession, changes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Set fields of many claimed messages: one executemany UPDATE per set of fields changed.

    A message changes only where a status callback has not been first: once the provider
    accepted a message, its callback may be handled before the dispatcher records the answer
    to the send, and moves the message out of ``sending`` (to ``sent`` or further). The fields
    a callback writes then keep its values; the others (segments, send time...) are still set.
    """
    await _count_sent(session, changes)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for message_id, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append(
            {"_id": message_id, **{f"_{name}": value for name, value in values.items()}})
    for fields, rows in groups.items():
        await session.execute(_record_statement(fields), rows)


def _count_sent_statement() -> Any:
    appointment = Appointment.__table__  # type: ignore[attr-defined]
    # Only a message not yet recorded as sent counts: the reports' SMS figures are these counters.
    newly_sent = (select(TABLE.c.appointment_id)
                  .where(TABLE.c.id == bindparam("_id"), TABLE.c.sent_at.is_(None))
                  .scalar_subquery())
    return (update(appointment).where(appointment.c.id == newly_sent)
            .values(sms_sent=appointment.c.sms_sent + 1,
                    sms_segments=appointment.c.sms_segments + bindparam("_segments")))


COUNT_SENT: Final = _count_sent_statement()


async def _count_sent(session: AsyncSession, changes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Raise the SMS counters of the appointments of the messages these changes record as sent, before
    the changes are written (a message counts once, when its ``sent_at`` is first set)."""
    sent = [{"_id": message_id, "_segments": values.get("segments") or 0}
            for message_id, values in changes if values.get("sent_at") is not None]
    if sent:
        await _lock_in_order(session, [str(row["_id"]) for row in sent])
        await session.execute(COUNT_SENT, sent)


async def _lock_in_order(session: AsyncSession, message_ids: Sequence[str]) -> None:
    """Lock the messages' appointments by id (PostgreSQL; SQLite writers are serialised already), so
    that two dispatchers recording messages of the same appointments never wait on each other in
    a circle."""
    appointment = Appointment.__table__  # type: ignore[attr-defined]
    ids = select(TABLE.c.appointment_id).where(TABLE.c.id.in_(message_ids)).scalar_subquery()
    await session.execute(select(appointment.c.id).where(appointment.c.id.in_(ids))
                          .order_by(appointment.c.id).with_for_update(key_share=True))


def _record_statement(fields: Sequence[str]) -> Any:
    still_sending = TABLE.c.status == SENDING
    values = {
        name: case((still_sending, bindparam(f"_{name}")), else_=TABLE.c[name])
        if name in _CALLBACK_FIELDS else bindparam(f"_{name}")
        for name in fields
    }
    return update(TABLE).where(TABLE.c.id == bindparam("_id")).values(values)


async def record_family_failures(session: AsyncSession, failed_at: Mapping[str, datetime]) -> None:
    """Of these messages (id: when it failed), each family text that failed for good is recorded as a
    ``message.failed`` event of its appointment, in this transaction: its kind and the provider's
    error code, never the number."""
    if not failed_at:
        return
    appointment = Appointment.__table__  # type: ignore[attr-defined]
    statement = (select(TABLE.c.id, TABLE.c.appointment_id, TABLE.c.event, TABLE.c.error_code,
                        appointment.c.site_id, appointment.c.pathway_id)
                 .join(appointment, appointment.c.id == TABLE.c.appointment_id)
                 .where(TABLE.c.id.in_(list(failed_at)), TABLE.c.recipient == "family",
                        TABLE.c.status.in_((FAILED, UNDELIVERED)))
                 .order_by(TABLE.c.id))
    for row in (await session.execute(statement)).all():
        data = {"message": {"id": row.id, "kind": row.event, "error_code": row.error_code}}
        await events.record(session, Event(MESSAGE_FAILED, failed_at[row.id], SYSTEM, data,
                                           appointment_id=row.appointment_id, site_id=row.site_id,
                                           pathway_id=row.pathway_id))


async def apply_provider_status(
    session: AsyncSession, reference: str, provider_id: str, status: str, error_code: str | None,
    now: datetime,
) -> bool:
    """Apply a status callback (``provider_update``); False when it changes nothing."""
    row = (await session.execute(
        select(TABLE.c.id, TABLE.c.provider_status, TABLE.c.status).where(TABLE.c.id == reference)
        .with_for_update()
    )).first()
    if row is None:
        return False
    values = provider_update(status, row.status, row.provider_status, error_code, provider_id, now)
    if values is None:
        return False
    await record(session, reference, **values)
    await record_family_failures(session, {reference: now})
    return True


async def for_appointment(session: AsyncSession, appointment_id: str) -> list[OutboxMessage]:
    """An appointment's messages, oldest first."""
    statement = select(OutboxMessage).where(col(OutboxMessage.appointment_id) == appointment_id).order_by(
        OutboxMessage.created_at, OutboxMessage.due_at  # type: ignore[arg-type]
    )
    return list((await session.execute(statement)).scalars().all())
