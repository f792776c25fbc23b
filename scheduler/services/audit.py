"""The audit trail: who read or changed a family's data, written off the request's hot path.

``AuditLog.note`` only appends to an in-process queue; a background task writes the queue in
batches every ``FLUSH_SECONDS`` (one transaction per batch), and ``close`` (on the application's
shutdown) writes what is left, so a clean shutdown loses nothing. The family reference of each
entry is looked up at flush time, in one query per batch. Entries older than
``CRENEAU_AUDIT_RETENTION_DAYS`` are purged by the retention job.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.db import audit as store
from scheduler.db.outage import is_database_outage
from scheduler.db.tables import AuditEntry
from scheduler.domain.errors import InvalidInput
from scheduler.services.paging import FORGED, PageOf, cut, decode_cursor

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.db.engine import Database
    from scheduler.ports import Clock

FLUSH_SECONDS = 1.0
BATCH = 500
log = logging.getLogger(__name__)


def truncated_ip(address: str | None) -> str | None:
    """The client's address cut to its network: IPv4 /24, IPv6 /48 (None when unknown or not an IP)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True, slots=True)
class Access:
    """One access to a family's data, as noted by the request that made it."""

    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    action: str
    target_kind: str
    target_id: str | None
    ip: str | None
    appointment_id: str | None = None
    family_reference: str | None = None


class AuditLog:
    """The in-process queue of accesses and the task that writes it."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._queue: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def note(self, access: Access) -> None:
        """Queue an entry, stamped now (never waits, never fails the request)."""
        self._queue.append({
            "at": self._clock.now(), "actor_kind": access.actor_kind, "actor_id": access.actor_id,
            "actor_name": access.actor_name, "action": access.action, "target_kind": access.target_kind,
            "target_id": access.target_id, "appointment_id": access.appointment_id,
            "family_reference": access.family_reference, "ip": truncated_ip(access.ip),
        })

    def start(self) -> None:
        """Start the background writer (application start-up)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop the writer and write everything still queued (application shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        """Write the queued entries now, in batches."""
        async with self._lock:
            while self._queue:
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                try:
                    async with self._db.write() as session:
                        await store.append(session, batch)
                except Exception:
                    self._queue[:0] = batch  # kept for the next flush: an entry is never dropped
                    raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 (the task must outlive any failure; entries stay queued)
                if not is_database_outage(exc):
                    log.error("could not write the audit trail (%s); will retry", type(exc).__name__)
                else:
                    log.warning("audit trail not written yet: database unavailable (%s)", type(exc).__name__)


async def page(
    deps: Collaborators, log_: AuditLog | None, *, start: datetime | None, end: datetime | None,
    actor_id: str | None, appointment_id: str | None, family_reference: str | None, cursor: str | None,
    limit: int,
) -> PageOf[AuditEntry]:
    """A page of the trail, oldest first (what this process still holds in its queue written first)."""
    if log_ is not None:
        await log_.flush()
    async with deps.db.read() as session:
        rows = await store.page(session, start=start, end=end, actor_id=actor_id,
                                appointment_id=appointment_id, family_reference=family_reference,
                                after=_after(cursor), limit=limit)
    return cut(rows, limit, lambda row: (str(row.seq),))


def _after(cursor: str | None) -> int | None:
    if not cursor:
        return None
    (number,) = decode_cursor(cursor, 1)
    if not number.isdigit() or len(number) > 18:
        raise InvalidInput(FORGED)
    return int(number)


async def purge(deps: Collaborators) -> int:
    """Delete the entries past the retention; how many."""
    limit = deps.clock.now() - timedelta(days=deps.settings.audit_retention_days)
    async with deps.db.write() as session:
        return await store.purge_older_than(session, limit)
