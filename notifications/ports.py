"""What the dispatcher needs from the application: its clock, page links, and the outbox's store.

The application implements these (``scheduler/db/outbox_store.py``), so this package never
reads the application's tables itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from notifications.compose import AppointmentFacts
from notifications.outbox import Event, Recipient


class Clock(Protocol):
    """The current instant (aware)."""

    def now(self) -> datetime: ...


class PageLinks(Protocol):
    """The family's page link of an appointment."""

    def url(self, appointment_id: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message a dispatcher took for itself, as the outbox holds it."""

    id: str
    appointment_id: str
    recipient: Recipient
    event: Event
    attempts: int
    needs_lookup: bool
    claimed_at: datetime
    expires_at: datetime | None
    """Aware UTC."""
    body: str | None


@dataclass(frozen=True, slots=True)
class MessageData:
    """What deciding and writing a claimed message reads afresh: its appointment and who it goes to."""

    status: str
    """The appointment's (``booked``, ``confirmed``, ``cancelled``...)."""
    facts: AppointmentFacts
    family_phone: str | None
    family_consent: bool
    family_language: str
    interpreter_phone: str | None
    """The phone of the interpreter the message is for."""
    link_revoked: bool
    """Staff revoked the family's page link: its texts give the site's phone instead."""


Change = tuple[str, Mapping[str, Any]]
"""A message's id and the fields to set on it."""


class OutboxTransaction(Protocol):
    """The outbox in one transaction of the application's database."""

    async def claim(self, now: datetime, lease: timedelta, batch: int) -> list[Claimed]:
        """Take up to ``batch`` due messages (pending and due, or in ``sending`` past their lease)."""
        ...

    async def message_data(self, claimed: Sequence[Claimed]) -> Mapping[str, MessageData]:
        """What each claimed message needs, by message id (a message whose appointment is gone: none)."""
        ...

    async def record(self, changes: Sequence[Change]) -> None:
        """Set fields of claimed messages (the fields a status callback wrote first keep its values)."""
        ...


class OutboxStore(Protocol):
    """Opens a write transaction on the outbox, committed when the block ends without error."""

    def transaction(self) -> AbstractAsyncContextManager[OutboxTransaction]: ...
