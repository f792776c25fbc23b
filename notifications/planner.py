"""Which messages a booking change queues, for whom and when. Pure: the caller reads and writes.

The family is texted only with its consent; the interpreter, a professional whose number the
programme holds for this purpose, is texted whenever the pool has a number for them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from notifications.compose import AppointmentFacts
from notifications.outbox import Event, Planned, Recipient
from notifications.policy import QuietHours, may_text, next_allowed_send, plan_reminders

RECIPIENTS: tuple[Recipient, ...] = ("family", "interpreter")

Notice = tuple[Event, int | None]
"""A notice's event, and the appointment's sequence it names (None: the first booking's)."""
Dropped = Literal["appointment-closed", "appointment-moved", "no-consent", "expired"]
"""Why a queued message is not sent after all."""


@dataclass(frozen=True, slots=True)
class Contacts:
    """Who can be texted about an appointment, where it happens, and its service's reminders."""

    family_phone: str | None
    family_consent: bool
    interpreter_phone: str | None
    interpreter_status: str | None
    zone: ZoneInfo
    """The site's zone."""
    reminder_offsets: Sequence[int] | None
    """The service's reminders, in minutes before the start; None for the default policy."""

    def reachable(self, recipient: Recipient) -> bool:
        """The family with its consent and a number; a booked interpreter with a number."""
        if recipient == "family":
            return may_text(self.family_phone, self.family_consent)
        return self.interpreter_status in ("booked", "cancelled") and bool(self.interpreter_phone)


@dataclass(frozen=True, slots=True)
class Subject:
    """The appointment the messages are about, as it is now."""

    id: str
    starts_at: datetime
    sequence: int
    interpreter_id: str | None


def booking_notices(
    appointment: Subject, contacts: Contacts, quiet: QuietHours | None, now: datetime
) -> list[Planned]:
    """A confirmation now (or when quiet hours end) and the reminders."""
    return plan(appointment, contacts, lambda _: ("booked", None), quiet, now, with_reminders=True)


def move_notices(
    appointment: Subject, contacts: Contacts, told: Collection[str], quiet: QuietHours | None, now: datetime,
    *, new_interpreter: bool = False,
) -> list[Planned]:
    """A change notice and new reminders; a booking notice to whoever has not heard of the appointment.

    Whoever ``told`` does not name (their confirmation was still waiting for the end of quiet
    hours, say) is told of the booking at its new time instead; so is an interpreter who takes
    over with the move (``new_interpreter``): the old time was never theirs.
    """
    def notice(recipient: Recipient) -> Notice:
        fresh = recipient not in told or (recipient == "interpreter" and new_interpreter)
        return ("booked" if fresh else "moved", appointment.sequence)

    return plan(appointment, contacts, notice, quiet, now, with_reminders=True)


def cancellation_notices(
    appointment: Subject, contacts: Contacts, told: Collection[str], quiet: QuietHours | None, now: datetime
) -> list[Planned]:
    """A cancellation notice, if the appointment was still to come, to each recipient who may have
    heard of it (``told``: one whose confirmation never left hears nothing)."""
    if appointment.starts_at <= now or not told:
        return []
    return plan(appointment, contacts, lambda recipient: ("cancelled", None) if recipient in told else None,
                quiet, now, with_reminders=False)


def release_notice(
    appointment: Subject, interpreter_id: str, starts_at: datetime, zone: ZoneInfo, body: str,
    quiet: QuietHours | None, now: datetime,
) -> Planned:
    """The cancellation notice of an interpreter taken off an appointment, written now (``body``): it
    names them, and the time they were booked for (``starts_at``), so it never reaches whoever took over."""
    return Planned(
        appointment.id,
        "cancelled",
        next_allowed_send(now, zone, quiet),
        expires_at=starts_at,
        recipient="interpreter",
        interpreter_id=interpreter_id,
        body=body,
        sequence=appointment.sequence,
    )


def plan(
    appointment: Subject,
    contacts: Contacts,
    notice: Callable[[Recipient], Notice | None],
    quiet: QuietHours | None,
    now: datetime,
    *,
    with_reminders: bool,
) -> list[Planned]:
    """For each reachable recipient, the notice ``notice(recipient)`` names (None: none), and the
    reminders when asked."""
    planned: list[Planned] = []
    for recipient in RECIPIENTS:
        named = notice(recipient)
        if named is None or not contacts.reachable(recipient):
            continue
        # An interpreter's texts name the interpreter booked now: a later change of interpreter
        # does not redirect them to someone else.
        interpreter_id = appointment.interpreter_id if recipient == "interpreter" else None
        event, sequence = named
        planned.append(Planned(appointment.id, event, next_allowed_send(now, contacts.zone, quiet),
                               expires_at=appointment.starts_at, recipient=recipient,
                               interpreter_id=interpreter_id, sequence=sequence))
        if with_reminders:
            planned += [
                Planned(
                    appointment.id,
                    "reminder",
                    reminder.due_at,
                    expires_at=appointment.starts_at,
                    recipient=recipient,
                    interpreter_id=interpreter_id,
                    offset_minutes=reminder.offset_minutes,
                    sequence=appointment.sequence,
                )
                for reminder in plan_reminders(
                    appointment.starts_at, contacts.zone, contacts.reminder_offsets, quiet, now
                )
            ]
    return planned


def still_to_send(
    event: Event, status: str, expires_at: datetime | None, facts: AppointmentFacts, reachable: bool,
    quiet: QuietHours | None, now: datetime,
) -> Dropped | datetime | None:
    """Whether a queued message goes now (None), never (why), or later (when quiet hours end).

    Decided afresh when it is about to be sent, from its appointment as it is then (``status``,
    ``facts``): a cancellation or a move committed since the message was queued wins.

    Args:
        event: The message's event; a cancellation notice outlives its appointment.
        status: The appointment's status.
        expires_at: When the message stops being useful: the start it was queued for.
        facts: The appointment as it is now (its start, its site's zone).
        reachable: The recipient consents and has a number.
        quiet: The site's quiet hours.
        now: The current instant.
    """
    if status not in ("booked", "confirmed") and event != "cancelled":
        return "appointment-closed"
    if _superseded(event, expires_at, facts.starts_at):
        return "appointment-moved"
    if not reachable:
        return "no-consent"
    if expires_at is not None and now >= expires_at:
        return "expired"
    allowed = next_allowed_send(now, facts.zone, quiet)
    return allowed if allowed > now else None


def _superseded(event: Event, expires_at: datetime | None, starts_at: datetime) -> bool:
    """A notice or reminder queued for another time than the appointment's: it moved since.

    Every message but a cancellation notice expires when the appointment it was queued for
    starts (``plan``), so a different start means a move (whose own notice and reminders, with
    its ``sequence``, were queued with it). The sequence itself cannot tell: a confirmation or
    an interpreter change raises it too, and leaves the reminders valid.
    """
    if event == "cancelled" or expires_at is None:
        return False
    return expires_at != starts_at
