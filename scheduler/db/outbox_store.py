"""The dispatcher's outbox store (``notifications.ports.OutboxStore``) on the application's database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import FAILED
from notifications.ports import Change, Claimed, MessageData
from scheduler.db import inbox, message_data, outbox
from scheduler.db.dialect import as_utc
from scheduler.db.engine import Database
from scheduler.number_digests import DEMO_KEY, NumberDigests


@dataclass(frozen=True, slots=True)
class SqlOutboxStore:
    """Each transaction is one write transaction of ``db``."""

    db: Database
    digests: NumberDigests = field(default_factory=lambda: NumberDigests(DEMO_KEY))
    """How numbers that answered STOP are found (``inbox.SmsOptOut``)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlOutboxTransaction]:
        """A write transaction, committed when the block ends without error."""
        async with self.db.write() as session:
            yield SqlOutboxTransaction(session, self.digests)


@dataclass(frozen=True, slots=True)
class SqlOutboxTransaction:
    """The outbox in one session's transaction."""

    session: AsyncSession
    digests: NumberDigests

    async def claim(self, now: datetime, lease: timedelta, batch: int) -> list[Claimed]:
        """Take up to ``batch`` due messages (``outbox.claim``)."""
        return [
            Claimed(id=row.id, appointment_id=row.appointment_id, recipient=row.recipient, event=row.event,
                    attempts=row.attempts, needs_lookup=row.needs_lookup, claimed_at=row.claimed_at,
                    expires_at=as_utc(row.expires_at) if row.expires_at is not None else None, body=row.body)
            for row in await outbox.claim(self.session, now, lease, batch)
        ]

    async def message_data(self, claimed: Sequence[Claimed]) -> Mapping[str, MessageData]:
        """What each claimed message needs, by message id: a family's consent is withdrawn when its
        number answered STOP, whichever family it was."""
        found = await message_data.for_messages(self.session, claimed)
        digests = {data.family_phone: self.digests.of(data.family_phone)
                   for data in found.values() if data.family_phone}
        stopped = await inbox.opted_out(self.session, set(digests.values()))
        return {
            ident: replace(data, family_consent=False)
            if data.family_phone and digests[data.family_phone] in stopped else data
            for ident, data in found.items()
        }

    async def record(self, changes: Sequence[Change]) -> None:
        """Set fields of claimed messages (``outbox.record_claimed``); a family's text that failed for
        good is recorded as a ``message.failed`` event, in the same transaction."""
        await outbox.record_claimed(self.session, changes)
        await outbox.record_family_failures(self.session, {message_id: values["updated_at"]
                                                           for message_id, values in changes
                                                           if values.get("status") == FAILED})
