"""The SMS sender port: the message, the provider's answer, and errors that say whether to retry.

Error hierarchy::

    SmsError
    ├── TransientSmsError   timeouts, connection errors, HTTP 5xx and 429, full queues:
    │                       retry later (after a lookup: the provider may have accepted it)
    └── PermanentSmsError   invalid, unsubscribed, landline or unroutable number, bad
                            credentials or sender: retrying cannot help
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS to hand to a provider."""

    to: str
    """Recipient, E.164."""
    body: str
    reference: str
    """Our message id: sent back in the status callback (``?ref=``) and used to reconcile."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider answered for an accepted message."""

    provider_id: str
    """The provider's id (a Twilio ``SM...`` sid, or a local id)."""
    status: str
    """The provider's status: ``queued``, ``accepted``, ``sent``, ``delivered``..."""
    segments: int | None
    """Segments billed, when the provider says."""


class SmsError(Exception):
    """The provider did not accept the message."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        """A stable code: the provider's error code (``"21211"``), ``"http-503"``, ``"timeout"``..."""


class TransientSmsError(SmsError):
    """A failure that may not happen again: retry later, within the message's useful life."""


class PermanentSmsError(SmsError):
    """A failure that will happen again for this message: do not retry."""


class SmsSender(Protocol):
    """Hands messages to an SMS provider. Implementations do transport only."""

    async def send(self, message: OutgoingSms) -> SendResult:
        """Hand one message to the provider.

        Raises:
            TransientSmsError: The provider could not be reached or asked to come back later.
            PermanentSmsError: The provider refused this message for good.
        """
        ...

    async def lookup(self, message: OutgoingSms, since: datetime) -> SendResult | None:
        """Find a message the provider already accepted (same recipient and body, at or after ``since``).

        Called before any resend, so that a crash or a timeout after the provider
        accepted a message does not text the family twice.

        Raises:
            TransientSmsError: The provider could not be asked; do not resend yet.
            PermanentSmsError: The provider refused the query (e.g. bad credentials).
        """
        ...

    async def aclose(self) -> None:
        """Release connections (called at shutdown)."""
        ...
