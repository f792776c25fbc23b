"""Queueing the messages of a booking change, in the transaction of the change: read who can be
reached, let ``notifications.planner`` decide, write the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import planner
from notifications.compose import INTERPRETER_LANGUAGE, compose
from notifications.outbox import Planned
from notifications.planner import Contacts
from notifications.policy import QuietHours
from notifications.texts import TextCatalog, default_catalog
from scheduler.db import message_data, outbox, pathways
from scheduler.db.tables import Appointment


@dataclass(frozen=True, slots=True)
class Booked:
    """Where and when an interpreter was booked on an appointment, before it changed."""

    interpreter_id: str
    starts_at: datetime
    site_id: str


class FamilyLinks(Protocol):
    """Gives a booked or moved appointment its family page link (``family_links.FamilyLinkIssuer``)."""

    async def issue(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None: ...

    def row(self, appointment: Appointment, now: datetime) -> dict[str, Any]: ...

    def url(self, appointment_id: str) -> str: ...


class MessagePlanner:
    """Queues the messages of bookings, moves and cancellations, for the family and the interpreter."""

    def __init__(
        self,
        quiet: QuietHours | None,
        catalog: TextCatalog | None = None,
        family_links: FamilyLinks | None = None,
    ) -> None:
        self.quiet = quiet
        self.catalog = catalog or default_catalog()
        self.family_links = family_links
        """Booking and moving call it, before the messages that carry the link are queued."""

    async def booked(
        self, session: AsyncSession, appointment: Appointment, now: datetime, contacts: Contacts | None = None
    ) -> None:
        """A confirmation now (or when quiet hours end) and the reminders.

        ``contacts``: who the texts go to, when the caller has them already (read otherwise).
        """
        if contacts is None:
            contacts = await message_data.contacts(session, appointment.id)
        await outbox.enqueue(session, self.booking_texts(appointment, contacts, now), now)

    def booking_texts(self, appointment: Appointment, contacts: Contacts, now: datetime) -> list[Planned]:
        """What ``booked`` queues: a confirmation now (or when quiet hours end) and the reminders."""
        return planner.booking_notices(_subject(appointment), contacts, self.quiet, now)

    async def moved(
        self, session: AsyncSession, appointment: Appointment, now: datetime, *, new_interpreter: bool = False
    ) -> None:
        """Drop what was pending for the old time; a change notice and new reminders."""
        told = await _told(session, appointment)
        await outbox.cancel_pending(session, appointment.id, now)
        contacts = await message_data.contacts(session, appointment.id)
        await outbox.enqueue(
            session,
            planner.move_notices(
                _subject(appointment), contacts, told, self.quiet, now, new_interpreter=new_interpreter
            ),
            now,
        )

    async def cancelled(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Drop pending texts; a cancellation notice to each recipient who may have heard of it."""
        told = await _told(session, appointment)
        await outbox.cancel_pending(session, appointment.id, now)
        contacts = await message_data.contacts(session, appointment.id)
        await outbox.enqueue(
            session, planner.cancellation_notices(_subject(appointment), contacts, told, self.quiet, now), now
        )

    async def interpreter_released(
        self, session: AsyncSession, appointment: Appointment, was: Booked, now: datetime
    ) -> None:
        """The interpreter ``was`` names no longer covers the appointment (a move took another, or an
        agency's did): their pending texts are dropped and they are told their booking is cancelled,
        with the time and site they were booked for (the appointment may have moved since)."""
        await outbox.cancel_pending(session, appointment.id, now, recipient="interpreter",
                                    interpreter_id=was.interpreter_id)
        found = await message_data.released_interpreter(
            session, was.interpreter_id, was.site_id, was.starts_at
        )
        if found is None or not found[1] or was.starts_at <= now:
            return
        facts = found[0]
        body = compose(self.catalog, "cancelled", "interpreter", facts, INTERPRETER_LANGUAGE).body
        notice = planner.release_notice(
            _subject(appointment), was.interpreter_id, was.starts_at, facts.zone, body, self.quiet, now
        )
        await outbox.enqueue(session, [notice], now)


async def _told(session: AsyncSession, appointment: Appointment) -> set[str]:
    """Who may have heard of the appointment: from its own texts, or, for a session of a care
    pathway, from the pathway's one confirmation, which lists every session."""
    told = await outbox.recipients_told(session, appointment.id, appointment.interpreter_id)
    if appointment.pathway_id and "family" not in told and await pathways.confirmation_told(
            session, appointment.pathway_id):
        told.add("family")
    return told


def _subject(appointment: Appointment) -> planner.Subject:
    return planner.Subject(
        appointment.id, appointment.starts_at, appointment.sequence, appointment.interpreter_id
    )
