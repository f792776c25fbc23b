"""Which messages a booking change queues, in the transaction of the change (policy -> outbox).

The family is texted only with its consent; the interpreter, a professional whose number the
programme holds for this purpose, is texted whenever the pool has a number for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifications import outbox
from notifications.policy import QuietHours, may_text, next_allowed_send, plan_reminders
from notifications.texts import MessageContext, TextCatalog, default_catalog, interpreter_place
from scheduler.db.tables import Appointment, Family, Interpreter, Service, Site
from scheduler.phones import dialable

RECIPIENTS = ("family", "interpreter")


@dataclass(frozen=True, slots=True)
class Booked:
    """Where and when an interpreter was booked on an appointment, before it changed."""

    interpreter_id: str
    starts_at: datetime
    site_id: str


class MessagePlanner:
    """Queues the messages of bookings, moves and cancellations, for the family and the interpreter."""

    def __init__(self, quiet: QuietHours | None, catalog: TextCatalog | None = None) -> None:
        self.quiet = quiet
        self.catalog = catalog or default_catalog()

    async def booked(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """A confirmation now (or when quiet hours end) and the reminders."""
        await self._queue(session, appointment, lambda _: "booked", now, with_reminders=True)

    async def moved(
        self, session: AsyncSession, appointment: Appointment, now: datetime, *, new_interpreter: bool = False
    ) -> None:
        """Drop what was pending for the old time; a change notice and new reminders.

        An interpreter who takes over with the move (``new_interpreter``) gets a booking notice,
        not a change notice: the old time was never theirs.
        """
        told = await outbox.recipients_told(session, appointment.id, appointment.interpreter_id)
        await outbox.cancel_pending(session, appointment.id, now)

        def notice(recipient: str) -> str:
            # Whoever has not heard of the appointment yet (its confirmation was still waiting
            # for the end of quiet hours, say) is told of the booking at its new time instead.
            fresh = recipient not in told or (recipient == "interpreter" and new_interpreter)
            return f"{'booked' if fresh else 'moved'}@{appointment.sequence}"

        await self._queue(session, appointment, notice, now, with_reminders=True)

    async def cancelled(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop pending texts; a cancellation notice, if the appointment was still to come, to each
        recipient who may have heard of it (one whose confirmation never left hears nothing)."""
        told = await outbox.recipients_told(session, appointment.id, appointment.interpreter_id)
        await outbox.cancel_pending(session, appointment.id, now)
        if appointment.starts_at > now and told:
            await self._queue(session, appointment, lambda recipient: "cancelled" if recipient in told else None,
                              now, with_reminders=False)

    async def interpreter_released(
        self, session: AsyncSession, appointment: Appointment, was: Booked, now: datetime
    ) -> None:
        """The interpreter ``was`` names no longer covers the appointment (a move took another, or an
        agency's did): their pending texts are dropped and they are told their booking is cancelled.

        The text is written now, with the time and site they were booked for (the appointment may
        have moved since), and it names them, so it never reaches whoever took over.
        """
        await outbox.cancel_pending(session, appointment.id, now, recipient="interpreter",
                                    interpreter_id=was.interpreter_id)
        site: Any = (await session.execute(
            select(col(Site.timezone), col(Site.public_label), col(Site.address), col(Site.kind), col(Site.phone),
                   col(Interpreter.phone).label("interpreter_phone"), col(Interpreter.mode))
            .join(Interpreter, col(Interpreter.id) == was.interpreter_id)
            .where(col(Site.id) == was.site_id)
        )).first()
        if site is None or not site.interpreter_phone or was.starts_at <= now:
            return
        zone = ZoneInfo(site.timezone)
        label, address = interpreter_place(site.public_label, None if site.kind == "home" else site.address,
                                           site.mode)
        context = MessageContext(start=was.starts_at.astimezone(zone), site_label=label, site_address=address,
                                 site_phone=dialable(site.phone) if site.phone else None)
        body = self.catalog.render("interpreter_cancelled", "fr", context).body
        await outbox.enqueue(session, [outbox.Planned(
            appointment.id, f"cancelled@{appointment.sequence}", next_allowed_send(now, zone, self.quiet),
            expires_at=was.starts_at, recipient="interpreter", interpreter_id=was.interpreter_id, body=body)], now)

    async def _queue(
        self, session: AsyncSession, appointment: Appointment, notice: Callable[[str], str | None], now: datetime,
        *, with_reminders: bool,
    ) -> None:
        """Queue, for each reachable recipient, the notice ``notice(recipient)`` names (None: none) and
        the reminders when asked."""
        await session.flush()
        row = await _contact(session, appointment.id)
        zone = ZoneInfo(row.timezone)
        planned: list[outbox.Planned] = []
        for recipient in RECIPIENTS:
            kind = notice(recipient)
            if kind is None or not _reachable(row, recipient):
                continue
            # An interpreter's texts name the interpreter booked now: a later change of interpreter
            # does not redirect them to someone else.
            interpreter_id = appointment.interpreter_id if recipient == "interpreter" else None
            planned.append(outbox.Planned(appointment.id, kind, next_allowed_send(now, zone, self.quiet),
                                          expires_at=appointment.starts_at, recipient=recipient,
                                          interpreter_id=interpreter_id))
            if with_reminders:
                planned += [
                    outbox.Planned(appointment.id, f"{reminder.kind}@{appointment.sequence}", reminder.due_at,
                                   expires_at=appointment.starts_at, recipient=recipient,
                                   interpreter_id=interpreter_id)
                    for reminder in plan_reminders(appointment.starts_at, zone, row.offsets, self.quiet, now)
                ]
        await outbox.enqueue(session, planned, now)


# Built once (the appointment id is bound): every booking, move and cancellation reads it.
CONTACT: Final[Select[*tuple[Any, ...]]] = (
    select(col(Family.phone), col(Family.sms_consent), col(Site.timezone),
           col(Service.reminder_offsets_minutes).label("offsets"), col(Interpreter.phone).label("interpreter_phone"),
           col(Appointment.interpreter_status))
    .select_from(Appointment)
    .join(Family, col(Family.id) == col(Appointment.family_id))
    .join(Site, col(Site.id) == col(Appointment.site_id))
    .join(Service, col(Service.id) == col(Appointment.service_id))
    .outerjoin(Interpreter, col(Interpreter.id) == col(Appointment.interpreter_id))
    .where(col(Appointment.id) == bindparam("appointment_id"))
)


async def _contact(session: AsyncSession, appointment_id: str) -> Any:
    return (await session.execute(CONTACT, {"appointment_id": appointment_id})).one()


def _reachable(row: Any, recipient: str) -> bool:
    if recipient == "family":
        return may_text(row.phone, row.sms_consent)
    return row.interpreter_status in ("booked", "cancelled") and bool(row.interpreter_phone)
