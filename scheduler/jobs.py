"""APScheduler wiring: one in-memory ticker per process; jobs are module-level and take no snapshot."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.context import Services
from scheduler.services import idempotency

log = logging.getLogger("creneau.jobs")


class Jobs:
    """The process's scheduler; the database, not APScheduler, coordinates several processes."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

    @property
    def running(self) -> bool:
        """True while the scheduler runs."""
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start inside the running event loop (from Litestar's on_startup)."""
        self.scheduler.add_job(purge_idempotency_records, "interval", hours=1, args=[self.services],
                               id="purge-idempotency", replace_existing=True)
        self.scheduler.start()

    def add(self, func: Any, trigger: str, job_id: str, **trigger_args: Any) -> None:
        """Register another periodic job (the SMS dispatcher adds its ticker here)."""
        self.scheduler.add_job(func, trigger, args=[self.services], id=job_id, replace_existing=True, **trigger_args)

    def stop(self) -> None:
        """Stop without waiting for running jobs (they re-check state when they run again)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


async def purge_idempotency_records(services: Services) -> None:
    """Forget idempotency records older than 24 h."""
    async with services.db.write() as session:
        removed = await idempotency.purge(session, services.clock.now())
    if removed:
        log.info("purged %d idempotency records", removed)
