"""A care pathway's texts: ONE confirmation listing every session, ONE cancellation when it closes.

Its sessions are booked and cancelled through ``booking`` with a ``SessionPlanner``: each keeps
its reminders (and its interpreter's texts), but the family's per-session confirmation and
cancellation notices give way to the pathway's one text, written now (it speaks of several
appointments) and queued on the first session concerned. A later change to one session goes
through the usual planner: it texts only that change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import planner as rules
from notifications.compose import AppointmentFacts, message_context
from notifications.dispatcher import LINK_MARK
from notifications.outbox import Planned
from notifications.planner import Contacts
from notifications.policy import next_allowed_send
from scheduler.db import message_data, outbox
from scheduler.db import pathways as store
from scheduler.db.tables import Appointment
from scheduler.phones import dialable
from scheduler.services.notify import MessagePlanner


class SessionPlanner(MessagePlanner):
    """The usual planner, less the family's confirmation and cancellation notices of each session."""

    @classmethod
    def of(cls, base: MessagePlanner) -> SessionPlanner:
        """The session planner of the app's planner (same quiet hours, texts and page links)."""
        return cls(base.quiet, base.catalog, base.family_links)

    def booking_texts(self, appointment: Appointment, contacts: Contacts, now: datetime) -> list[Planned]:
        """The session's reminders and its interpreter's texts; the family's confirmation is the pathway's."""
        planned = super().booking_texts(appointment, contacts, now)
        return [item for item in planned if not _family_notice(item)]

    async def cancelled(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Pending texts dropped; the interpreter told as usual, the family by the pathway's one text."""
        told = await outbox.recipients_told(session, appointment.id, appointment.interpreter_id)
        await outbox.cancel_pending(session, appointment.id, now)
        contacts = await message_data.contacts(session, appointment.id)
        planned = rules.cancellation_notices(_subject(appointment), contacts, told, self.quiet, now)
        await outbox.enqueue(session, [item for item in planned if item.recipient != "family"], now)


def _family_notice(item: Planned) -> bool:
    return item.recipient == "family" and item.event != "reminder"


def _subject(appointment: Appointment) -> rules.Subject:
    return rules.Subject(
        appointment.id, appointment.starts_at, appointment.sequence, appointment.interpreter_id
    )


async def queue_confirmation(
    session: AsyncSession, planner: MessagePlanner, sessions: Sequence[Appointment], now: datetime
) -> None:
    """The pathway's one confirmation to the family, listing every session, on the first session."""
    if sessions:
        await _queue(session, planner, "pathway_booked", "booked", sessions, now)


async def queue_closing(
    session: AsyncSession,
    planner: MessagePlanner,
    pathway_id: str,
    cancelled: Sequence[Appointment],
    now: datetime,
) -> None:
    """One cancellation text for every session the closing cancelled, if the family heard of them."""
    if not cancelled:
        return
    told = await store.confirmation_told(session, pathway_id)
    for item in cancelled:
        told = told or "family" in await outbox.recipients_told(session, item.id, None)
    if told:
        await _queue(session, planner, "pathway_cancelled", "cancelled", cancelled, now)


async def _queue(
    session: AsyncSession,
    planner: MessagePlanner,
    template: str,
    event: str,
    sessions: Sequence[Appointment],
    now: datetime,
) -> None:
    first = min(sessions, key=lambda item: item.starts_at)
    contacts = await message_data.contacts(session, first.id)
    if not contacts.reachable("family"):
        return
    body = await write(session, planner, template, sessions, first)
    notice = Planned(
        first.id,
        "cancelled" if event == "cancelled" else "booked",
        next_allowed_send(now, contacts.zone, planner.quiet),
        expires_at=first.starts_at,
        recipient="family",
        body=body,
    )
    await outbox.enqueue(session, [notice], now)


async def write(
    session: AsyncSession,
    planner: MessagePlanner,
    template: str,
    sessions: Sequence[Appointment],
    first: Appointment,
) -> str:
    """The pathway text, in the family's language, its page link kept as the outbox keeps it (a mark)."""
    site = await store.site_facts(session, first.site_id)
    language = await store.family_language(session, first.family_id)
    zone = ZoneInfo(site.timezone)
    facts = AppointmentFacts(
        starts_at=first.starts_at,
        zone=zone,
        site_label=site.public_label,
        site_address=site.address,
        site_kind=site.kind,
        site_phone=dialable(site.phone) if site.phone else None,
    )
    link = planner.family_links.url(first.id) if planner.family_links is not None else None
    ctx = message_context("family", facts, link)
    listed = [
        (item.starts_at.astimezone(zone), item.attendees)
        for item in sorted(sessions, key=lambda item: item.starts_at)
    ]
    body = planner.catalog.render_pathway(template, language, ctx, listed).body
    return body.replace(link, LINK_MARK) if link else body
