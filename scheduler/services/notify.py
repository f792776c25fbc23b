"""Which messages a booking change queues, in the transaction of the change (policy -> outbox).

The family is texted only with its consent; the interpreter, a professional whose number the
programme holds for this purpose, is texted whenever the pool has a number for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.policy import QuietHours, may_text, next_allowed_send, plan_reminders
from scheduler.db.tables import Appointment, Family, Interpreter, Service, Site

RECIPIENTS = ("family", "interpreter")


class MessagePlanner:
    """Queues the messages of bookings, moves and cancellations, for the family and the interpreter."""

    def __init__(self, quiet: QuietHours | None) -> None:
        self.quiet = quiet

    async def booked(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """A confirmation now (or when quiet hours end) and the reminders."""
        await self._queue(session, appointment, "booked", now, with_reminders=True)

    async def moved(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop what was pending for the old time; a change notice and new reminders."""
        await outbox.cancel_pending(session, appointment.id, now)
        await self._queue(session, appointment, f"moved@{appointment.sequence}", now, with_reminders=True)

    async def cancelled(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop pending reminders; a cancellation notice if the appointment was still to come."""
        await outbox.cancel_pending(session, appointment.id, now)
        if appointment.starts_at > now:
            await self._queue(session, appointment, "cancelled", now, with_reminders=False)

    async def _queue(
        self, session: AsyncSession, appointment: Appointment, kind: str, now: datetime, *, with_reminders: bool
    ) -> None:
        await session.flush()
        row = await _contact(session, appointment.id)
        zone = ZoneInfo(row.timezone)
        planned: list[outbox.Planned] = []
        for recipient in RECIPIENTS:
            if not _reachable(row, recipient):
                continue
            planned.append(outbox.Planned(appointment.id, kind, next_allowed_send(now, zone, self.quiet),
                                          expires_at=appointment.starts_at, recipient=recipient))
            if with_reminders:
                planned += [
                    outbox.Planned(appointment.id, f"{reminder.kind}@{appointment.sequence}", reminder.due_at,
                                   expires_at=appointment.starts_at, recipient=recipient)
                    for reminder in plan_reminders(appointment.starts_at, zone, row.offsets, self.quiet, now)
                ]
        await outbox.enqueue(session, planned, now)


async def _contact(session: AsyncSession, appointment_id: str) -> Any:
    return (await session.execute(
        select(Family.phone, Family.sms_consent, Site.timezone, Service.reminder_offsets_minutes.label("offsets"),
               Interpreter.phone.label("interpreter_phone"), Appointment.interpreter_status)
        .select_from(Appointment)
        .join(Family, Family.id == Appointment.family_id)  # type: ignore[arg-type]
        .join(Site, Site.id == Appointment.site_id)  # type: ignore[arg-type]
        .join(Service, Service.id == Appointment.service_id)  # type: ignore[arg-type]
        .outerjoin(Interpreter, Interpreter.id == Appointment.interpreter_id)  # type: ignore[arg-type]
        .where(Appointment.id == appointment_id)
    )).one()


def _reachable(row: Any, recipient: str) -> bool:
    if recipient == "family":
        return may_text(row.phone, row.sms_consent)
    return row.interpreter_status in ("booked", "cancelled") and bool(row.interpreter_phone)
