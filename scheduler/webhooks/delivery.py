"""The webhook delivery worker: claim due deliveries, POST them signed, record each outcome.

Each tick claims what the process has room for and starts one task per delivery, then returns:
the SMS dispatcher (another job) and other endpoints never wait for a slow receiver. An endpoint
has at most ``per_endpoint`` deliveries in flight per process, and the process at most
``in_flight_limit``. A crash after the receiver's 2xx and before the record lets the lease lapse
and the delivery go again, with the same ``webhook-id``: at least once, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import events as event_store
from scheduler.db import webhooks as store
from scheduler.db.engine import Database
from scheduler.db.event_tables import WebhookEndpoint
from scheduler.domain.events import event_body
from scheduler.ports import Clock
from scheduler.webhooks import addresses, signing
from scheduler.webhooks.backoff import failing_too_long, next_attempt_at
from scheduler.webhooks.secrets import SecretBox, SecretUnreadable

log = logging.getLogger("creneau.webhooks")

DELIVERY_TIMEOUT: Final = httpx.Timeout(10.0)
"""Any 2xx within 10 s is a success (the contract); the whole exchange must fit in it."""
BATCH: Final = 100
UTC_ZONE: Final = ZoneInfo("UTC")
GONE: Final = 410


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How the worker behaves (from the settings)."""

    allow_private: bool = False
    backoff_scale: float = 1.0
    per_endpoint: int = 4
    in_flight_limit: int = 64
    lease: timedelta = timedelta(seconds=60)
    """Well above the 10 s timeout: a claim lapses only when its worker died."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST gave: a status code, or an error named without secrets."""

    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery with its endpoint and body, read when it was claimed."""

    claimed: store.Claimed
    endpoint: WebhookEndpoint | None
    body: bytes | None
    """The event as JSON (None: the event is gone)."""


class WebhookDeliverer:
    """Delivers the due webhooks of this process, a bounded number at a time per endpoint."""

    def __init__(self, db: Database, clock: Clock, box: SecretBox | None, config: DeliveryConfig) -> None:
        self.db, self.clock, self.box, self.config = db, clock, box, config
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._claiming = asyncio.Lock()
        self._refill: asyncio.Task[int] | None = None
        self._closing = False
        self._wanted = False
        self.outcomes: Counter[str] = Counter()
        """Attempts of this process by outcome (``succeeded``, ``failed``, ``retry``, ``gone``…),
        for metrics."""

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No proxy from the environment, no redirects: the checked address is the one called.
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, follow_redirects=False,
                                             trust_env=False,
                                             limits=httpx.Limits(max_connections=self.config.in_flight_limit))
        return self._client

    async def tick(self) -> int:
        """Claim the due deliveries there is room for and start them; returns how many started."""
        async with self._claiming:  # one claim at a time, so the bounds hold
            free = self.config.in_flight_limit - sum(self._in_flight.values())
            if free <= 0:
                return 0
            room = {endpoint: max(0, self.config.per_endpoint - count)
                    for endpoint, count in self._in_flight.items() if count}
            async with self.db.write() as session:
                claimed = await store.claim(session, self.clock.now(), self.config.lease, min(BATCH, free),
                                            room, self.config.per_endpoint)
                jobs = await self._jobs(session, claimed)
            self._start(jobs)
        return len(jobs)

    async def _jobs(self, session: AsyncSession, claimed: list[store.Claimed]) -> list[Job]:
        """What each claimed delivery needs, read in the claim's transaction (three queries for the batch)."""
        if not claimed:
            return []
        endpoints = await store.endpoints_by_id(session, {item.endpoint_id for item in claimed})
        rows = await store.event_payloads(session, [item.event_id for item in claimed])
        zones = await event_store.site_zones(session, {row.site_id for row in rows.values() if row.site_id})
        jobs = []
        for item in claimed:
            endpoint, row = endpoints.get(item.endpoint_id), rows.get(item.event_id)
            body = None if row is None else event_body(row, zones.get(row.site_id or "", UTC_ZONE))
            jobs.append(Job(item, endpoint, body))
        return jobs

    def _start(self, jobs: list[Job]) -> None:
        for item in jobs:
            self._in_flight[item.claimed.endpoint_id] += 1
            task = asyncio.create_task(self._deliver(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _claim_again(self) -> None:
        """A delivery ended: claim at once rather than at the next tick (one such claim at a time)."""
        self._wanted = True
        if not self._closing and (self._refill is None or self._refill.done()):
            self._refill = asyncio.create_task(self._refill_while_wanted())

    async def _refill_while_wanted(self) -> int:
        # Deliveries that end during a claim ask for another: the loop claims again for them.
        started = 0
        while self._wanted and not self._closing:
            self._wanted = False
            try:
                started += await self.tick()
            except (SQLAlchemyError, OSError) as exc:  # the next scheduled tick tries again
                log.error("webhook claim failed: %s", type(exc).__name__)
                break
        return started

    async def aclose(self) -> None:
        """Stop: deliveries still in flight are abandoned (their lease lapses; another pass sends them)."""
        self._closing = True
        if self._refill is not None:
            self._refill.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _deliver(self, job: Job) -> None:
        claimed = job.claimed
        try:
            attempt = await self._attempt(job)
            await self._record(job, attempt)
        except (SQLAlchemyError, OSError) as exc:  # the database failed: the lease brings the delivery back
            log.error("webhook delivery %s: %s while recording", claimed.id, type(exc).__name__)
        finally:
            self._in_flight[claimed.endpoint_id] -= 1
            if self._in_flight[claimed.endpoint_id] <= 0:
                del self._in_flight[claimed.endpoint_id]
            self._claim_again()

    async def _attempt(self, job: Job) -> Attempt:
        endpoint, body = job.endpoint, job.body
        if endpoint is None or body is None:
            return Attempt(error="event-or-endpoint-gone")
        now = self.clock.now()
        try:
            secrets = self._secrets(endpoint.secret_encrypted, endpoint.previous_secret_encrypted,
                                    endpoint.previous_secret_expires_at, now)
        except SecretUnreadable:
            return Attempt(error="secret-unreadable")
        return await self.post(endpoint.url, signing.headers(secrets, job.claimed.event_id, now, body), body)

    def _secrets(
        self, current: str, previous: str | None, expires: datetime | None, now: datetime
    ) -> list[str]:
        if self.box is None:
            raise SecretUnreadable("no CRENEAU_SECRET_KEY")
        found = [self.box.open(current)]
        if previous and expires and expires > now:
            found.append(self.box.open(previous))
        return found

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Attempt:
        """POST to the URL's host at the address checked just now (Host and TLS name kept)."""
        allow = self.config.allow_private
        try:
            target = addresses.parse(url, allow_private=allow)
            address = await addresses.pinned_address(target, allow_private=allow)
        except addresses.WebhookUrlRefused:
            return Attempt(error="address-refused")
        shown = f"[{address}]" if address.version == 6 else str(address)
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        pinned = httpx.URL(url).copy_with(host=shown.strip("[]"), port=target.port)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = await self._http().post(pinned, content=body, headers={**headers, "host": host_header},
                                               extensions=extensions)
        except httpx.TimeoutException:
            return Attempt(error="timeout")
        except httpx.HTTPError as exc:
            return Attempt(error=f"connection-error: {type(exc).__name__}")
        return Attempt(status_code=response.status_code)

    async def _record(self, job: Job, attempt: Attempt) -> None:
        claimed, now = job.claimed, self.clock.now()
        was_failing = job.endpoint is not None and job.endpoint.failing_since is not None
        made = claimed.attempts + 1
        values: dict[str, Any]
        async with self.db.write() as session:
            if attempt.succeeded:
                outcome, values = "succeeded", {"status": store.SUCCEEDED, "next_attempt_at": None}
            elif attempt.status_code == GONE:
                outcome, values = "gone", {"status": store.FAILED, "next_attempt_at": None}
            else:
                retry_at = next_attempt_at(made, now, self.config.backoff_scale)
                outcome = "retry" if retry_at else "failed"
                values = {"status": store.PENDING if retry_at else store.FAILED, "next_attempt_at": retry_at}
            error = attempt.error or (None if attempt.succeeded else f"HTTP {attempt.status_code}")
            recorded = await store.record_attempt(session, claimed, last_attempt_at=now,
                                                  last_status_code=attempt.status_code, last_error=error,
                                                  **values)
            if not recorded:
                outcome = "lease-lost"
            elif attempt.succeeded:
                if was_failing:
                    await store.mark_success(session, claimed.endpoint_id)
            elif attempt.status_code == GONE:
                await store.disable(session, claimed.endpoint_id, "gone", now)
            elif failing_too_long(await store.mark_failure(session, claimed.endpoint_id, now), now):
                await store.disable(session, claimed.endpoint_id, "failing", now)
        self.outcomes[outcome] += 1
        log.info("webhook delivery %s to endpoint %s: %s (%s)", claimed.id, claimed.endpoint_id, outcome,
                 attempt.status_code or attempt.error)
