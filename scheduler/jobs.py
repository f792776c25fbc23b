"""APScheduler wiring: one in-memory ticker per process; jobs are module-level and take no snapshot.

APScheduler 3.x cannot share a job store between processes, so it only ticks: the database
decides what is due (outbox claims are safe across processes), and every job re-reads state.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from scheduler.collaborators import Collaborators
from scheduler.db.outage import is_database_outage
from scheduler.services import audit as audit_service
from scheduler.services import idempotency, waitlist_offers
from scheduler.services import retention as retention_service

log = logging.getLogger("creneau.jobs")
DISPATCH_JOB = "dispatch-sms"
WEBHOOK_JOB = "deliver-webhooks"
STOP_WAIT_SECONDS = 10.0
WAITLIST_SWEEP_JOB = "sweep-waitlist"


JobFunction = Callable[[Collaborators], Awaitable[None]]


def skips_database_outages(job: JobFunction) -> JobFunction:
    """While the database is unreachable, a run is skipped with one WARNING line, not an error with a
    traceback.

    The next tick tries again; a traceback per tick would bury the log during an outage (and
    a driver's message may quote SQL parameters).
    """

    @functools.wraps(job)
    async def run(services: Collaborators) -> None:
        try:
            await job(services)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            log.warning("%s skipped: database unavailable (%s)", job.__name__, type(exc).__name__)

    return run


class Jobs:
    """The process's scheduler."""

    def __init__(self, services: Collaborators) -> None:
        self.services = services
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                        "misfire_grace_time": 60})

    @property
    def running(self) -> bool:
        """True while the scheduler runs and the dispatcher is scheduled on it."""
        return bool(self.scheduler.running) and self.scheduler.get_job(DISPATCH_JOB) is not None

    def start(self) -> None:
        """Start inside the running event loop (from Litestar's on_startup, after the tables exist)."""
        settings = self.services.settings
        # APScheduler runs on the machine's clock, not the app's: a first run at the app's "now"
        # (a test's fixed clock in the past) would make it walk every run missed since then.
        started = datetime.now(UTC)
        self._add(dispatch_due, "interval", DISPATCH_JOB, seconds=settings.dispatch_interval_seconds,
                  next_run_time=started)
        self._add(sweep_waitlist, "interval", WAITLIST_SWEEP_JOB, minutes=settings.waitlist_sweep_minutes,
                  next_run_time=started)
        self._add(erase_expired_phones, "cron", "erase-phones", hour=2, minute=30)
        self._add(purge_expired_family_links, "cron", "purge-family-links", hour=2, minute=40)
        self._add(purge_interpreter_releases, "cron", "purge-interpreter-releases", hour=2, minute=50)
        self._add(purge_audit_entries, "cron", "purge-audit-entries", hour=2, minute=55)
        self._add(purge_idempotency_records, "interval", "purge-idempotency", hours=1)
        # Its own job: a slow receiver never delays the SMS (and the tick only starts deliveries).
        self._add(deliver_webhooks, "interval", WEBHOOK_JOB, seconds=settings.webhook_interval_seconds,
                  next_run_time=started)
        self.scheduler.start()

    def _add(self, func: Any, trigger: str, job_id: str, **trigger_args: Any) -> None:
        self.scheduler.add_job(func, trigger, args=[self.services], id=job_id, replace_existing=True,
                               **trigger_args)

    async def stop(self) -> None:
        """Stop the ticks, let the runs in progress finish (``STOP_WAIT_SECONDS`` at most), then shut
        down, before the database is closed: a run cut off mid-transaction at shutdown left its
        connection's clean-up waiting on a closed pool. A run still going after the wait is
        cancelled; an interrupted dispatch is reconciled by the next one."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        # APScheduler 3's asyncio executor keeps its runs' tasks here, and only cancels them itself.
        executor = self.scheduler._executors.get("default")
        running = [task for task in getattr(executor, "_pending_futures", ()) if not task.done()]
        if running:
            await asyncio.wait(running, timeout=STOP_WAIT_SECONDS)
        self.scheduler.shutdown(wait=False)


@skips_database_outages
async def dispatch_due(services: Collaborators) -> None:
    """Send the SMS that are due, then offer freed times to waiting families (their texts join the
    outbox) and send those too: an offer goes out in the tick that made it.

    The sends come first and the offers' sends only when there are offers: the tick's first pass
    starts at once, as it always did (a pass is never run twice at the same time in a process).
    """
    await services.dispatcher.run_once()
    try:
        made = await waitlist_offers.offer_round(services, sweep=False)
    except Exception as exc:
        if is_database_outage(exc):
            raise
        log.exception("waiting list round failed")
        return
    if made:
        await services.dispatcher.run_once()


@skips_database_outages
async def sweep_waitlist(services: Collaborators) -> None:
    """Look for free times for every waiting family, freed slot or not (every 10 minutes by default)."""
    await waitlist_offers.offer_round(services, sweep=True)


@skips_database_outages
async def erase_expired_phones(services: Collaborators) -> None:
    """Erase the phone of families whose last appointment is older than the retention (RGPD)."""
    retention = timedelta(days=services.settings.retention_days)
    async with services.db.write() as session:
        erased = await retention_service.erase_expired_phones(session, services.clock.now(), retention)
    log.info("retention: erased the phone of %d families", erased)


@skips_database_outages
async def purge_idempotency_records(services: Collaborators) -> None:
    """Forget idempotency records older than 24 h."""
    async with services.db.write() as session:
        removed = await idempotency.purge(session, services.clock.now())
    if removed:
        log.info("purged %d idempotency records", removed)


@skips_database_outages
async def purge_expired_family_links(services: Collaborators) -> None:
    """Delete the family page links past their expiry: they answer 404 already, keep nothing."""
    async with services.db.write() as session:
        removed = await retention_service.purge_expired_family_links(session, services.clock.now())
    if removed:
        log.info("retention: deleted %d expired family page links", removed)


@skips_database_outages
async def purge_audit_entries(services: Collaborators) -> None:
    """Delete the audit entries older than CRENEAU_AUDIT_RETENTION_DAYS."""
    removed = await audit_service.purge(services)
    if removed:
        log.info("retention: deleted %d audit entries", removed)


@skips_database_outages
async def purge_interpreter_releases(services: Collaborators) -> None:
    """Delete interpreter releases older than the time a cancelled event stays in a feed."""
    async with services.db.write() as session:
        removed = await retention_service.purge_interpreter_releases(session, services.clock.now())
    if removed:
        log.info("retention: deleted %d interpreter releases", removed)


@skips_database_outages
async def deliver_webhooks(services: Collaborators) -> None:
    """Start the webhook deliveries that are due (each runs on as its own task)."""
    if services.deliverer is not None:
        await services.deliverer.tick()
