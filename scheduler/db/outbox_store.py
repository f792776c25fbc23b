"""The dispatcher's outbox store (``notifications.ports.OutboxStore``) on the application's database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import FAILED
from notifications.ports import Change, Claimed, MessageData
from scheduler.db import message_data, outbox
from scheduler.db.dialect import as_utc
from scheduler.db.engine import Database


@dataclass(frozen=True, slots=True)
class SqlOutboxStore:
    """Each transaction is one write transaction of ``db``."""

    db: Database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlOutboxTransaction]:
        """A write transaction, committed when the block ends without error."""
        async with self.db.write() as session:
            yield SqlOutboxTransaction(session)


@dataclass(frozen=True, slots=True)
class SqlOutboxTransaction:
    """The outbox in one session's transaction."""

    session: AsyncSession

    async def claim(self, now: datetime, lease: timedelta, batch: int) -> list[Claimed]:
        """Take up to ``batch`` due messages (``outbox.claim``)."""
        return [
            Claimed(id=row.id, appointment_id=row.appointment_id, recipient=row.recipient, event=row.event,
                    attempts=row.attempts, needs_lookup=row.needs_lookup, claimed_at=row.claimed_at,
                    expires_at=as_utc(row.expires_at) if row.expires_at is not None else None, body=row.body)
            for row in await outbox.claim(self.session, now, lease, batch)
        ]

    async def message_data(self, claimed: Sequence[Claimed]) -> Mapping[str, MessageData]:
        """What each claimed message needs, by message id."""
        return await message_data.for_messages(self.session, claimed)

    async def record(self, changes: Sequence[Change]) -> None:
        """Set fields of claimed messages (``outbox.record_claimed``); a family's text that failed for
        good is recorded as a ``message.failed`` event, in the same transaction."""
        await outbox.record_claimed(self.session, changes)
        await outbox.record_family_failures(self.session, {message_id: values["updated_at"]
                                                           for message_id, values in changes
                                                           if values.get("status") == FAILED})
