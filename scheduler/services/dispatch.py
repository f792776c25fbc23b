"""The SMS dispatcher: claim due messages, decide afresh, record, send, record again.

Exactly once from our side: the rendered body is recorded (status ``sending``) before the
provider is called and the provider's id after. A message found in ``sending`` past its lease
(its dispatcher died) or after an ambiguous failure (timeout, 5xx) is first looked up at the
provider by recipient and body; it is resent only if the provider never accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from notifications import outbox
from notifications.masking import mask_phone
from notifications.policy import QuietHours, next_allowed_send
from notifications.senders.base import OutgoingSms, PermanentSmsError, SendResult, SmsSender, TransientSmsError
from notifications.texts import MessageContext, TextCatalog
from scheduler.db.engine import Database
from scheduler.db.tables import Appointment, Family, Interpreter, Site
from scheduler.ports import Clock

# A runtime import: Litestar reads the Services annotations (which include the Dispatcher's) at start-up.
from scheduler.services.family_links import LinkMaker

log = logging.getLogger("creneau.dispatch")

BATCH = 200
CONCURRENT_SENDS = 32
# Retry budget: 30 s doubling to 16 min over 6 attempts spans about 32 minutes, well inside the
# shortest useful life of a message (a morning reminder sent at 08:30 for a 12:00 appointment
# still has hours). A message is never sent after its appointment starts (``expires_at``).
MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
# Provider dates are truncated to the second: search from a little before the first claim.
LOOKUP_MARGIN = timedelta(seconds=2)
EVENTS = {"booked": "appointment_booked", "moved": "appointment_moved", "reminder": "appointment_reminder",
          "cancelled": "appointment_cancelled"}


@dataclass
class DispatchReport:
    """What one pass did, by outcome (counts only: never a number or a text)."""

    sent: int = 0
    reconciled: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0

    @property
    def handled(self) -> int:
        """Messages taken out of the queue by this pass."""
        return self.sent + self.reconciled + self.retried + self.failed + self.cancelled + self.deferred


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed message with what sending it needs, read afresh from the database."""

    id: str
    kind: str
    recipient: str
    attempts: int
    needs_lookup: bool
    claimed_at: datetime
    expires_at: datetime | None
    status: str
    phone: str | None
    consent: bool
    language: str
    start: datetime
    zone: ZoneInfo
    context: MessageContext
    body: str | None = None


class RateLimiter:
    """At most ``rate`` acquisitions per second (a token bucket shared by the sends of a process)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free instant."""
        async with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(self.next_at, now) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass
class Dispatcher:
    """Sends due messages of the outbox through an ``SmsSender``."""

    db: Database
    sender: SmsSender
    catalog: TextCatalog
    clock: Clock
    quiet: QuietHours | None
    rate_per_second: float
    lease: timedelta
    links: LinkMaker | None = None
    """Writes the family's page link into its texts (None: the texts offer the site's phone)."""
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.rate_per_second)

    async def run_once(self) -> DispatchReport:
        """Claim and handle due messages until none is left; the counts."""
        report = DispatchReport()
        while True:
            claimed = await self._claim()
            if not claimed:
                break
            await self._handle(claimed, report)
            if len(claimed) < BATCH:
                break
        if report.handled:
            log.info("dispatch: %s", report)
        return report

    async def _claim(self) -> list[Any]:
        async with self.db.write() as session:
            return await outbox.claim(session, self.clock.now(), self.lease, BATCH)

    async def _handle(self, claimed: Sequence[Any], report: DispatchReport) -> None:
        jobs = await self._load(claimed)
        now = self.clock.now()
        to_send: list[Job] = []
        async with self.db.write() as session:
            for job in jobs:
                decision = self._decide(job, now)
                if decision is None:
                    job = self._render(job)
                    to_send.append(job)
                    await outbox.record(session, job.id, body=job.body, to_masked=mask_phone(job.phone),
                                        updated_at=now)
                else:
                    await outbox.record(session, job.id, **decision[1])
                    setattr(report, decision[0], getattr(report, decision[0]) + 1)
        semaphore = asyncio.Semaphore(CONCURRENT_SENDS)
        results = await asyncio.gather(*(self._deliver(job, semaphore) for job in to_send))
        async with self.db.write() as session:
            for job, (outcome, values) in zip(to_send, results, strict=True):
                await outbox.record(session, job.id, **values)
                setattr(report, outcome, getattr(report, outcome) + 1)

    def _decide(self, job: Job, now: datetime) -> tuple[str, dict[str, Any]] | None:
        """None to send now; else the outcome and the fields to record (re-checked at send time)."""
        if job.status not in ("booked", "confirmed") and not job.kind.startswith("cancelled"):
            return "cancelled", {"status": outbox.CANCELLED, "error_code": "appointment-closed", "updated_at": now}
        if not job.consent or not job.phone:
            return "cancelled", {"status": outbox.CANCELLED, "error_code": "no-consent", "updated_at": now}
        if job.expires_at is not None and now >= job.expires_at:
            return "failed", {"status": outbox.FAILED, "error_code": "expired", "updated_at": now}
        allowed = next_allowed_send(now, job.zone, self.quiet)
        if allowed > now:
            return "deferred", {"status": outbox.PENDING, "due_at": allowed, "lease_until": None, "updated_at": now}
        return None

    def _render(self, job: Job) -> Job:
        if job.body is not None:
            return job  # already rendered before a crash or timeout: resend the very same text
        event = EVENTS[job.kind.split("@")[0].split("-")[0]]
        if job.recipient == "interpreter":
            event = event.replace("appointment_", "interpreter_")
        return replace(job, body=self.catalog.render(event, job.language, job.context).body)

    async def _deliver(self, job: Job, semaphore: asyncio.Semaphore) -> tuple[str, dict[str, Any]]:
        assert job.phone is not None and job.body is not None
        message = OutgoingSms(to=job.phone, body=job.body, reference=job.id)
        async with semaphore:
            try:
                if job.needs_lookup:
                    found = await self.sender.lookup(message, job.claimed_at - LOOKUP_MARGIN)
                    if found is not None:
                        return "reconciled", _sent(found, self.clock.now())
                await self.limiter.acquire()
                return "sent", _sent(await self.sender.send(message), self.clock.now())
            except PermanentSmsError as exc:
                return "failed", {"status": outbox.FAILED, "error_code": exc.code or "permanent",
                                  "error_detail": str(exc)[:300], "updated_at": self.clock.now()}
            except TransientSmsError as exc:
                return self._retry(job, exc)

    def _retry(self, job: Job, exc: TransientSmsError) -> tuple[str, dict[str, Any]]:
        now = self.clock.now()
        if job.attempts >= MAX_ATTEMPTS:
            return "failed", {"status": outbox.FAILED, "error_code": exc.code or "transient",
                              "error_detail": "gave up after retries", "updated_at": now}
        backoff = FIRST_BACKOFF * (2 ** (job.attempts - 1)) * random.uniform(0.8, 1.2)
        # The provider may have accepted it before failing to answer: look it up before resending.
        return "retried", {"status": outbox.PENDING, "due_at": now + backoff, "needs_lookup": True,
                           "lease_until": None, "error_code": exc.code or "transient", "updated_at": now}

    async def _load(self, claimed: Sequence[Any]) -> list[Job]:
        ids = [row.id for row in claimed]
        statement = (
            select(outbox.TABLE.c.id, Appointment.status, Appointment.starts_at, Family.phone, Family.sms_consent,
                   Family.language, Site.timezone, Site.public_label, Site.address, Site.kind,
                   Site.phone.label("site_phone"), Interpreter.phone.label("interpreter_phone"))
            .join(Appointment, Appointment.id == outbox.TABLE.c.appointment_id)  # type: ignore[arg-type]
            .join(Family, Family.id == Appointment.family_id)  # type: ignore[arg-type]
            .join(Site, Site.id == Appointment.site_id)  # type: ignore[arg-type]
            .outerjoin(Interpreter, Interpreter.id == Appointment.interpreter_id)  # type: ignore[arg-type]
            .where(outbox.TABLE.c.id.in_(ids))
        )
        async with self.db.read() as session:
            found = {row.id: row for row in (await session.execute(statement)).all()}
        return [_job(row, found[row.id], self.links) for row in claimed if row.id in found]


def _job(claim: Any, row: Any, links: LinkMaker | None = None) -> Job:
    zone = ZoneInfo(row.timezone)
    context = MessageContext(
        start=row.starts_at.astimezone(zone),
        site_label=row.public_label,
        # A home visit happens at the family's own address: never written in an SMS.
        site_address=None if row.kind == "home" else row.address,
        # Only the family gets its page link (interpreters' texts have no place for it anyway).
        link=links.url(claim.appointment_id) if links is not None and claim.recipient == "family" else None,
        site_phone=row.site_phone,
    )
    # Interpreters are professionals texted in French at the number the pool holds for them.
    interpreter = claim.recipient == "interpreter"
    return Job(
        id=claim.id, kind=claim.kind, recipient=claim.recipient, attempts=claim.attempts,
        needs_lookup=claim.needs_lookup, claimed_at=claim.claimed_at, expires_at=claim.expires_at,
        status=row.status, phone=row.interpreter_phone if interpreter else row.phone,
        consent=True if interpreter else row.sms_consent, language="fr" if interpreter else row.language,
        start=row.starts_at, zone=zone, context=context, body=claim.body,
    )


def _sent(result: SendResult, now: datetime) -> dict[str, Any]:
    return {"status": outbox.SENT, "provider_id": result.provider_id, "provider_status": result.status,
            "segments": result.segments, "sent_at": now, "lease_until": None, "error_code": None, "updated_at": now}
