"""Which messages a booking change queues, in the transaction of the change (policy -> outbox)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.policy import QuietHours, may_text, next_allowed_send, plan_reminders
from scheduler.db.tables import Appointment, Family, Service, Site


class MessagePlanner:
    """Queues family messages for bookings, moves and cancellations."""

    def __init__(self, quiet: QuietHours | None) -> None:
        self.quiet = quiet

    async def booked(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """A confirmation now (or when quiet hours end) and the reminders."""
        await self._queue(session, appointment, "booked", now, with_reminders=True)

    async def moved(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop what was pending for the old time; a change notice and new reminders."""
        await outbox.cancel_pending(session, appointment.id, now, recipient="family")
        await self._queue(session, appointment, f"moved@{appointment.sequence}", now, with_reminders=True)

    async def cancelled(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop pending reminders; a cancellation notice if the appointment was still to come."""
        await outbox.cancel_pending(session, appointment.id, now, recipient="family")
        if appointment.starts_at > now:
            await self._queue(session, appointment, "cancelled", now, with_reminders=False)

    async def _queue(
        self, session: AsyncSession, appointment: Appointment, kind: str, now: datetime, *, with_reminders: bool
    ) -> None:
        row = (await session.execute(
            select(Family.phone, Family.sms_consent, Site.timezone, Service.reminder_offsets_minutes)
            .select_from(Appointment)
            .join(Family, Family.id == Appointment.family_id)  # type: ignore[arg-type]
            .join(Site, Site.id == Appointment.site_id)  # type: ignore[arg-type]
            .join(Service, Service.id == Appointment.service_id)  # type: ignore[arg-type]
            .where(Appointment.id == appointment.id)
        )).one()
        if not may_text(row.phone, row.sms_consent):
            return
        zone = ZoneInfo(row.timezone)
        planned = [outbox.Planned(appointment.id, kind, next_allowed_send(now, zone, self.quiet),
                                  expires_at=appointment.starts_at)]
        if with_reminders:
            for reminder in plan_reminders(appointment.starts_at, zone, row.reminder_offsets_minutes, self.quiet, now):
                planned.append(outbox.Planned(appointment.id, f"{reminder.kind}@{appointment.sequence}",
                                              reminder.due_at, expires_at=appointment.starts_at))
        await outbox.enqueue(session, planned, now)
