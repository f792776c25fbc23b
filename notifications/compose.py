"""Writing one message: from the facts of an appointment to the text its recipient reads.

The one place a template's context is built, for the texts written when a change is queued
(an interpreter released by a move) and those written when the dispatcher sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from notifications.outbox import Event, Recipient
from notifications.texts import MessageContext, RenderedSms, TextCatalog, interpreter_place

INTERPRETER_LANGUAGE = "fr"
"""Interpreters are professionals of the programme, texted in French."""


@dataclass(frozen=True, slots=True)
class AppointmentFacts:
    """What a text may say of an appointment and its site, as the application's database holds it."""

    starts_at: datetime
    """Aware."""
    zone: ZoneInfo
    """The site's zone, where the text gives the time."""
    site_label: str
    """The site's public label (never its internal name)."""
    site_address: str | None
    site_kind: str
    site_phone: str | None
    """Already in the form a phone dials."""
    interpreter_mode: str | None = None
    """How the interpreter the text is for works (``on_site``, ``phone``, ``video``)."""


def message_context(recipient: Recipient, facts: AppointmentFacts, link: str | None = None) -> MessageContext:
    """What the recipient's text may say: a home visit's address never (the family reads "at your
    home"), an interpreter's place as they work, and the family's page ``link`` to the family only."""
    # A home visit happens at the family's own address: never written in an SMS.
    at_home = facts.site_kind == "home"
    label, address = facts.site_label, None if at_home else facts.site_address
    if recipient == "interpreter":
        label, address = interpreter_place(label, address, facts.interpreter_mode)
    return MessageContext(
        start=facts.starts_at.astimezone(facts.zone),
        site_label=label,
        site_address=address,
        link=link if recipient == "family" else None,
        site_phone=facts.site_phone,
        at_home=at_home and recipient == "family",
    )


def template(event: Event, recipient: Recipient) -> str:
    """The template of an event for a recipient (``appointment_reminder``, ``interpreter_moved``)."""
    return f"{'interpreter' if recipient == 'interpreter' else 'appointment'}_{event}"


def compose(
    catalog: TextCatalog, event: Event, recipient: Recipient, facts: AppointmentFacts, language: str,
    link: str | None = None,
) -> RenderedSms:
    """The text of ``event`` for ``recipient``, in ``language`` (an interpreter's is French)."""
    language = INTERPRETER_LANGUAGE if recipient == "interpreter" else language
    return catalog.render(template(event, recipient), language, message_context(recipient, facts, link))
