"""A sender that keeps messages in a list: a real backend for tests and demos."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from notifications.segments import count_segments
from notifications.senders.base import OutgoingSms, SendResult, SmsError


class InMemorySmsSender:
    """Keeps every accepted message in ``outbox``; can be told to fail the next sends."""

    def __init__(self) -> None:
        self.outbox: list[OutgoingSms] = []
        self._accepted: dict[str, tuple[OutgoingSms, SendResult]] = {}
        self._planned_failures: deque[SmsError] = deque()

    def fail_next(self, *errors: SmsError) -> None:
        """Make the next ``send`` calls raise these errors, one per call, in order."""
        self._planned_failures.extend(errors)

    async def send(self, message: OutgoingSms) -> SendResult:
        """Append the message to ``outbox``, unless a planned failure is due.

        Raises:
            SmsError: The next planned failure, if any (see ``fail_next``).
        """
        if self._planned_failures:
            raise self._planned_failures.popleft()
        self.outbox.append(message)
        result = SendResult(
            provider_id=f"mem-{len(self.outbox)}",
            status="queued",
            segments=count_segments(message.body).segments,
        )
        self._accepted[message.reference] = (message, result)
        return result

    async def lookup(self, message: OutgoingSms, since: datetime) -> SendResult | None:
        """The result of an earlier send of this reference with the same recipient and body.

        ``since`` is not needed: the outbox only holds what this process accepted.
        """
        sent, result = self._accepted.get(message.reference, (None, None))
        return result if sent == message else None

    async def aclose(self) -> None:
        """Nothing to release."""
