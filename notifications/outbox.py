"""The outbox's rules: a message's states, what it is about, and how a provider's word moves it.

A message is written in the transaction of the change that causes it (booking, move,
cancellation), so it exists exactly when that change does; one message per appointment,
recipient and kind (``Planned.kind``) keeps it from being queued twice. States::

    pending ──claim──> sending ──provider accepted──> sent ──callbacks──> delivered | undelivered | failed
       ^                  │ transient error (retry with backoff, look up before resending)
       └──────────────────┘
    pending | sending ──permanent error, no consent, too late──> failed | cancelled

The rows themselves, and the statements that move them, live with the application's database
(``scheduler/db/outbox.py``); this module holds only what does not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

PENDING, SENDING, SENT = "pending", "sending", "sent"
DELIVERED, UNDELIVERED, FAILED, CANCELLED = "delivered", "undelivered", "failed", "cancelled"
# Provider statuses ranked so that a late callback never moves a message backwards.
PROVIDER_RANK = {
    "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5, "read": 6,
}
FINAL_FROM_PROVIDER = {
    "delivered": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
    "read": DELIVERED,
}
# A message in these states may have reached its recipient: they know of the appointment.
MAY_HAVE_REACHED: Final = (SENDING, SENT, DELIVERED)

Event = Literal["booked", "moved", "reminder", "cancelled"]
Recipient = Literal["family", "interpreter"]


@dataclass(frozen=True, slots=True)
class Planned:
    """A message to queue: for whom, which event, when, and until when it is still useful."""

    appointment_id: str
    event: Event
    due_at: datetime
    expires_at: datetime | None = None
    recipient: Recipient = "family"
    interpreter_id: str | None = None
    """For an interpreter's message: which interpreter (one released from the appointment, say)."""
    body: str | None = None
    """The text, when it must be written now (it speaks of a time the appointment no longer has)."""
    offset_minutes: int | None = None
    """A reminder's lead time in minutes; None for the default policy's morning reminder."""
    sequence: int | None = None
    """The appointment's sequence the message was queued at; None for the first booking notice."""

    @property
    def kind(self) -> str:
        """The message's name among the appointment's (``booked``, ``reminder-2880@3``): one of each."""
        return kind_of(self.event, self.offset_minutes, self.sequence)


def kind_of(event: str, offset_minutes: int | None, sequence: int | None) -> str:
    """The kind a message is shown and kept unique by, written from its event, lead time and sequence."""
    name = event
    if event == "reminder":
        name += f"-{offset_minutes}" if offset_minutes is not None else "-morning"
    return name if sequence is None else f"{name}@{sequence}"


def provider_update(
    status: str,
    current_status: str,
    current_provider_status: str | None,
    error_code: str | None,
    provider_id: str,
    now: datetime,
) -> dict[str, Any] | None:
    """The fields a status callback sets, or None when it would move the message backwards (or not at all).

    Idempotent: the provider's statuses are ranked, and a late ``sent`` keeps ``delivered``.
    """
    if PROVIDER_RANK.get(status, 0) <= PROVIDER_RANK.get(current_provider_status or "", 0):
        return None
    values: dict[str, Any] = {"provider_status": status, "provider_id": provider_id, "updated_at": now}
    if status in FINAL_FROM_PROVIDER:
        values["status"] = FINAL_FROM_PROVIDER[status]
    elif current_status in (PENDING, SENDING):
        values["status"] = SENT
    if error_code:
        values["error_code"] = error_code
    return values
