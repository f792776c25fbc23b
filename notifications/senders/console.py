"""A sender that only logs: the default backend, for development and demos."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TextIO

from notifications.masking import mask_links, mask_phone
from notifications.segments import count_segments
from notifications.senders.base import OutgoingSms, SendResult

logger = logging.getLogger("creneau.sms")


class ConsoleSmsSender:
    """Logs each message (number and family page token masked) instead of sending it.

    ``screen``, given in demo mode only, stands for the family's phone: each text is also written
    there with its page link whole, so that whoever tries the demo can open the page. It is the
    terminal (standard output), never the log, which may be shipped elsewhere.
    """

    def __init__(self, screen: TextIO | None = None) -> None:
        self.screen = screen

    async def send(self, message: OutgoingSms) -> SendResult:
        """Log the message on ``creneau.sms``; the number and the family page link's token are masked."""
        segments = count_segments(message.body).segments
        logger.info(
            "SMS not sent (console backend) to %s, ref %s, %d segment(s): %s",
            mask_phone(message.to),
            message.reference,
            segments,
            mask_links(message.body),
        )
        if self.screen is not None:
            self.screen.write(f"  SMS to {mask_phone(message.to)}: {message.body}\n")
            self.screen.flush()
        return SendResult(provider_id=f"console-{message.reference}", status="sent", segments=segments)

    async def lookup(self, message: OutgoingSms, since: datetime) -> SendResult | None:
        """Nothing left the process, so there is never anything to reconcile."""
        return None

    async def aclose(self) -> None:
        """Nothing to release."""
