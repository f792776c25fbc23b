"""The SMS dispatcher: claim due messages, decide afresh, record, send, record again.

Exactly once from our side: the rendered body is recorded (status ``sending``) before the
provider is called and the provider's id after. A message found in ``sending`` past its lease
(its dispatcher died) or after an ambiguous failure (timeout, 5xx) is first looked up at the
provider by recipient and body; it is resent only if the provider never accepted it.

A pass is a pipeline, so that sends never wait for the database nor for the slowest send of a
batch: up to ``CONCURRENT_SENDS`` sends stay in flight, fed from a queue of claimed, rendered and
recorded messages that is topped up before it runs dry; their outcomes are recorded together,
a few dozen per statement. Only the pass's coordinator touches the database (one writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from notifications import outbox
from notifications.compose import AppointmentFacts, compose
from notifications.masking import mask_phone
from notifications.outbox import Event, Recipient
from notifications.planner import still_to_send
from notifications.policy import QuietHours, may_text
from notifications.ports import Change, Claimed, Clock, MessageData, OutboxStore, OutboxTransaction, PageLinks
from notifications.send_rate import RateLimiter
from notifications.senders.base import (
    OutgoingSms,
    PermanentSmsError,
    SendResult,
    SmsSender,
    TransientSmsError,
)
from notifications.texts import TextCatalog

log = logging.getLogger("creneau.dispatch")

# Sizing: enough sends in flight to hide the provider's latency, yet three replicas together stay
# under Twilio's limit of about 100 concurrent API requests per account (beyond it: HTTP 429);
# and no more messages claimed than can be sent in an eighth of a lease at the rate limit, so a
# claimed message is sent well before its lease lapses and another dispatcher reconciles it.
LINK_MARK = "{link}"
"""Stands for the family's page link in a recorded body; the link is derived again to resend."""
BATCH = 100
"""Most messages claimed at once."""
CONCURRENT_SENDS = 32
"""Most provider calls in flight, per process."""
FLUSH_SECONDS = 0.05
"""Longest an outcome waits to be recorded with others (a crash meanwhile costs a lookup, no resend)."""
# Retry budget: 30 s doubling to 16 min over 6 attempts spans about 32 minutes, well inside the
# shortest useful life of a message (a morning reminder sent at 08:30 for a 12:00 appointment
# still has hours). A message is never sent after its appointment starts (``expires_at``).
MAX_ATTEMPTS = 6
FIRST_BACKOFF = timedelta(seconds=30)
# Provider dates are truncated to the second: search from a little before the first claim.
LOOKUP_MARGIN = timedelta(seconds=2)


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


Outcome = tuple[str, dict[str, Any]]
"""A report counter (``sent``, ``retried``...) and the fields to record."""


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed message with what sending it needs, read afresh from the database."""

    id: str
    event: Event
    recipient: Recipient
    attempts: int
    needs_lookup: bool
    claimed_at: datetime
    expires_at: datetime | None
    status: str
    phone: str | None
    consent: bool
    language: str
    facts: AppointmentFacts
    link: str | None
    """The family's page link its text carries, if any."""
    body: str | None = None
    lease_until: datetime | None = None
    """When the claim lapses: past its middle, the message is given back rather than sent."""
    revoked: Outcome | None = None
    """No longer to be sent, but perhaps handed to the provider before a crash: looked up, then this."""


@dataclass
class _Pass:
    """The state one pass shares between its coordinator and its senders."""

    flush_at: int
    """Outcomes recorded together as soon as there are this many."""
    refill_below: int
    """Claim more as soon as fewer messages than this are queued (a claim takes a while)."""
    ready: asyncio.Queue[Job | None] = field(default_factory=asyncio.Queue)
    """Claimed, rendered and recorded messages waiting for a sender; ``None`` stops one."""
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    """Outcomes not recorded yet, by message id."""
    first_outcome_at: float = 0.0
    in_flight: int = 0
    exhausted: bool = False
    """The last claim found fewer messages than it asked for: claim no more in this pass."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    crash: BaseException | None = None

    @property
    def idle(self) -> bool:
        """Nothing queued, nothing in flight."""
        return self.ready.empty() and self.in_flight == 0

    @property
    def hungry(self) -> bool:
        """The queue runs low, and more messages may be due."""
        return not self.exhausted and self.ready.qsize() < self.refill_below

    def flush_due(self) -> bool:
        """Outcomes are waiting, and enough of them, or for long enough, or the rest is done."""
        return bool(self.outcomes) and (self.idle or len(self.outcomes) >= self.flush_at
                                        or time.monotonic() - self.first_outcome_at >= FLUSH_SECONDS)

    def add(self, message_id: str, outcome: Outcome) -> None:
        if not self.outcomes:
            self.first_outcome_at = time.monotonic()
        self.outcomes.append((message_id, outcome))

    def take_outcomes(self) -> list[tuple[str, Outcome]]:
        taken, self.outcomes = self.outcomes, []
        return taken


@dataclass
class Dispatcher:
    """Sends due messages of the outbox through an ``SmsSender``."""

    store: OutboxStore
    sender: SmsSender
    catalog: TextCatalog
    clock: Clock
    quiet: QuietHours | None
    limiter: RateLimiter
    """Paces the sends (``notifications.send_rate``): this process's budget, or one shared through Redis."""
    rate_per_second: float
    """The limiter's rate, which sizes the claims and the sends in flight."""
    lease: timedelta
    links: PageLinks | None = None
    """Writes the family's page link into its texts (None: the texts offer the site's phone)."""
    claim_size: int = field(init=False)
    senders: int = field(init=False)

    def __post_init__(self) -> None:
        budget = int(self.rate_per_second * self.lease.total_seconds() / 8)
        self.claim_size = max(1, min(BATCH, budget))
        self.senders = max(1, min(CONCURRENT_SENDS, budget))

    async def aclose(self) -> None:
        """Release the rate limiter's connections (at shutdown)."""
        await self.limiter.aclose()

    async def run_once(self) -> DispatchReport:
        """Claim and handle due messages until none is left; the counts."""
        report = DispatchReport()
        work = _Pass(flush_at=max(1, self.senders // 2), refill_below=self.claim_size)
        senders = [asyncio.create_task(self._send_loop(work)) for _ in range(self.senders)]
        try:
            await self._coordinate(work, report)
        finally:
            # Normally every sender has stopped; after an error, messages still in flight stay in
            # 'sending' and are reconciled once their lease lapses.
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
        if report.handled:
            log.info("dispatch: %s", report)
        return report

    async def _coordinate(self, work: _Pass, report: DispatchReport) -> None:
        """Keep the queue fed and record outcomes, until nothing is due and every send is recorded."""
        while True:
            if work.crash is not None:
                raise work.crash
            if work.hungry or work.flush_due():
                await self._turn(work, report, claim=work.hungry)
            elif work.exhausted and work.idle:
                for _ in range(self.senders):
                    work.ready.put_nowait(None)
                return
            else:
                work.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FLUSH_SECONDS):
                        await work.wake.wait()

    async def _turn(self, work: _Pass, report: DispatchReport, *, claim: bool) -> None:
        """One transaction: record the outcomes so far; then claim, decide and record the next messages.

        A single transaction, because each database round trip waits its turn on an event loop
        busy with dozens of sends: fewer of them keep the queue fed.
        """
        outcomes = work.take_outcomes()
        to_send: list[Job] = []
        async with self.store.transaction() as messages:
            if outcomes:
                await messages.record([(message_id, values) for message_id, (_, values) in outcomes])
            if claim:
                now = self.clock.now()
                claimed = await messages.claim(now, self.lease, self.claim_size)
                work.exhausted = len(claimed) < self.claim_size
                to_send = await self._prepare(messages, claimed, now + self.lease, report)
        # Committed: the bodies are recorded before any of these messages goes to the provider.
        for job in to_send:
            work.ready.put_nowait(job)
        for _, (counter, _) in outcomes:
            setattr(report, counter, getattr(report, counter) + 1)

    async def _send_loop(self, work: _Pass) -> None:
        """One sender: deliver queued messages one after the other."""
        try:
            while (job := await work.ready.get()) is not None:
                work.in_flight += 1
                try:
                    work.add(job.id, await self._deliver(job))
                finally:
                    work.in_flight -= 1
                # Wake the coordinator only when it has something to do.
                if work.hungry or len(work.outcomes) >= work.flush_at or work.idle:
                    work.wake.set()
        except Exception as exc:  # a bug: end the pass, whose coordinator waits on this sender
            work.crash = exc
            work.wake.set()
            raise

    async def _prepare(
        self,
        messages: OutboxTransaction,
        claimed: Sequence[Claimed],
        lease_until: datetime,
        report: DispatchReport,
    ) -> list[Job]:
        """Decide afresh for each claimed message; record the bodies to send and the other decisions."""
        found = await messages.message_data(claimed)
        jobs = [_job(row, found[row.id], lease_until, self.links) for row in claimed if row.id in found]
        now = self.clock.now()
        to_send: list[Job] = []
        changes: list[Change] = []
        for job in jobs:
            decision = self._decide(job, now)
            if (
                decision is not None
                and decision[0] == "cancelled"
                and job.needs_lookup
                and job.body is not None
            ):
                # It may have reached the provider before a crash or a timeout: ask before recording.
                to_send.append(replace(self._render(job), revoked=decision))
            elif decision is None:
                job = self._render(job)
                to_send.append(job)
                changes.append((job.id, {"body": _without_link(job), "to_masked": mask_phone(job.phone),
                                         "updated_at": now}))
            else:
                changes.append((job.id, decision[1]))
                setattr(report, decision[0], getattr(report, decision[0]) + 1)
        await messages.record(changes)
        return to_send

    def _decide(self, job: Job, now: datetime) -> Outcome | None:
        """None to send now; else the outcome and the fields to record.

        Decided afresh from the rows read in the claim's transaction, so a cancellation or a move
        committed since the message was queued (or claimed by a dispatcher that died) wins.
        """
        reachable = may_text(job.phone, job.consent)
        verdict = still_to_send(job.event, job.status, job.expires_at, job.facts, reachable, self.quiet, now)
        if verdict is None:
            return None
        if isinstance(verdict, datetime):
            return "deferred", {
                "status": outbox.PENDING,
                "due_at": verdict,
                "lease_until": None,
                "updated_at": now,
            }
        if verdict == "expired":
            return "failed", {"status": outbox.FAILED, "error_code": verdict, "updated_at": now}
        return "cancelled", {"status": outbox.CANCELLED, "error_code": verdict, "updated_at": now}

    def _render(self, job: Job) -> Job:
        if job.body is not None:
            # Rendered before a crash or timeout (or when queued): resend the very same text.
            return replace(job, body=job.body.replace(LINK_MARK, job.link or ""))
        return replace(job, body=compose(self.catalog, job.event, job.recipient, job.facts, job.language,
                                         job.link).body)

    async def _deliver(self, job: Job) -> Outcome:
        assert job.phone is not None and job.body is not None
        message = OutgoingSms(to=job.phone, body=job.body, reference=job.id)
        try:
            if job.needs_lookup:
                found = await self.sender.lookup(message, job.claimed_at - LOOKUP_MARGIN)
                if found is not None:
                    return "reconciled", _sent(found, self.clock.now())
            if job.revoked is not None:
                return job.revoked
            await self.limiter.acquire()
            if not self._lease_holds(job):
                return self._give_back(job)
            return "sent", _sent(await self.sender.send(message), self.clock.now())
        except PermanentSmsError as exc:
            return "failed", {"status": outbox.FAILED, "error_code": exc.code or "permanent",
                              "error_detail": str(exc)[:300], "updated_at": self.clock.now()}
        except TransientSmsError as exc:
            return self._retry(job, exc)

    def _lease_holds(self, job: Job) -> bool:
        """True while at least half the lease is left: room for the call before anyone reconciles it."""
        return job.lease_until is None or self.clock.now() < job.lease_until - self.lease / 2

    def _give_back(self, job: Job) -> Outcome:
        """Return an unsent message to the queue (its claim did not count as an attempt)."""
        return "deferred", {"status": outbox.PENDING, "lease_until": None, "attempts": job.attempts - 1,
                            "updated_at": self.clock.now()}

    def _retry(self, job: Job, exc: TransientSmsError) -> Outcome:
        now = self.clock.now()
        if job.attempts >= MAX_ATTEMPTS:
            return "failed", {"status": outbox.FAILED, "error_code": exc.code or "transient",
                              "error_detail": "gave up after retries", "updated_at": now}
        backoff = FIRST_BACKOFF * (2 ** (job.attempts - 1)) * random.uniform(0.8, 1.2)
        # The provider may have accepted it before failing to answer: look it up before resending.
        return "retried", {"status": outbox.PENDING, "due_at": now + backoff, "needs_lookup": True,
                           "lease_until": None, "error_code": exc.code or "transient", "updated_at": now}


def _job(claim: Claimed, data: MessageData, lease_until: datetime, links: PageLinks | None) -> Job:
    interpreter = claim.recipient == "interpreter"
    # Only the family gets its page link (interpreters' texts have no place for it anyway),
    # and not once staff revoked it: the text then gives the site's phone instead.
    link = (
        links.url(claim.appointment_id)
        if links is not None and not interpreter and not data.link_revoked
        else None
    )
    # Interpreters are professionals texted at the number the pool holds for them.
    return Job(
        id=claim.id, event=claim.event, recipient=claim.recipient, attempts=claim.attempts,
        needs_lookup=claim.needs_lookup, claimed_at=claim.claimed_at, expires_at=claim.expires_at,
        status=data.status, phone=data.interpreter_phone if interpreter else data.family_phone,
        consent=True if interpreter else data.family_consent, language=data.family_language, facts=data.facts,
        link=link, body=claim.body, lease_until=lease_until,
    )


def _without_link(job: Job) -> str | None:
    """The body as the outbox keeps it: the family's page token is never stored in clear."""
    link = job.link
    return job.body.replace(link, LINK_MARK) if job.body is not None and link else job.body


def _sent(result: SendResult, now: datetime) -> dict[str, Any]:
    return {
        "status": outbox.SENT,
        "provider_id": result.provider_id,
        "provider_status": result.status,
        "segments": result.segments,
        "sent_at": now,
        "lease_until": None,
        "error_code": None,
        "updated_at": now,
    }
