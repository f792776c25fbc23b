"""Prometheus metrics: HTTP traffic and bookings counted as they happen, the outbox read at scrape time.

Each application owns its registry (tests build many apps in one process). The counters are
per process: with several workers, each scrape reaches one of them (see the README); the
outbox figures come from the database, so every worker reports the same ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scheduler.db import outbox_figures, waitlist

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CONTENT_TYPE = "text/plain; version=0.0.4"
BOOKING_ROUTE = ("POST", "/v1/appointments")
BOOKING_CONFLICTS = frozenset({"slot-unavailable", "interpreter-unavailable"})
UNMATCHED = "unmatched"
# Request durations: the slot and booking targets sit between 2 ms and 100 ms.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OutboxSnapshot:
    """The outbox as last read: messages by status and the age of the oldest due pending one."""

    def __init__(self) -> None:
        self.by_status: dict[str, int] = {}
        self.lag_seconds = 0.0
        self.waitlist_by_status: dict[str, int] = {}
        self.waitlist_refills = 0

    async def read(self, session: AsyncSession, now: datetime) -> None:
        """Two aggregate queries (``ix_outbox_status_due`` answers the second)."""
        self.by_status = await outbox_figures.count_by_status(session)
        oldest = await outbox_figures.oldest_due_pending(session, now)
        self.lag_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        self.waitlist_by_status, self.waitlist_refills = await waitlist.figures(session)


class _ScrapeTime(Collector):
    """Figures read when scraped: the outbox snapshot and the feed build count."""

    def __init__(self, outbox: OutboxSnapshot, feed_builds: Any) -> None:
        self._outbox = outbox
        self._feed_builds = feed_builds

    def collect(self) -> Iterator[Metric]:
        messages = GaugeMetricFamily(
            "creneau_sms_messages", "SMS in the outbox, by status.", labels=["status"]
        )
        for status, count in sorted(self._outbox.by_status.items()):
            messages.add_metric([status], count)
        yield messages
        yield GaugeMetricFamily("creneau_sms_dispatch_lag_seconds",
                                "Age of the oldest due message still pending (0: none waiting).",
                                value=self._outbox.lag_seconds)
        yield CounterMetricFamily("creneau_feed_builds", "Calendar feed bodies built (cache misses).",
                                  value=self._feed_builds())
        entries = GaugeMetricFamily("creneau_waitlist_entries", "Waiting list entries, by status.",
                                    labels=["status"])
        for status, count in sorted(self._outbox.waitlist_by_status.items()):
            entries.add_metric([status], count)
        yield entries
        yield CounterMetricFamily("creneau_waitlist_refills",
                                  "Freed slots re-booked through a waiting-list offer before their start.",
                                  value=self._outbox.waitlist_refills)


class Metrics:
    """One application's metrics."""

    def __init__(self, feed_builds: Any = lambda: 0) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("creneau_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("creneau_http_request_duration_seconds", "Time to answer an HTTP request.",
                                  ["method", "route"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.bookings = Counter("creneau_bookings", "Booking requests by outcome.", ["outcome"],
                                registry=self.registry)
        self.outbox = OutboxSnapshot()
        self.registry.register(_ScrapeTime(self.outbox, feed_builds))

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """Count one answered request under its route template (never the raw path: no ids in labels)."""
        template = route or UNMATCHED
        self.requests.labels(method, template, str(status)).inc()
        self.duration.labels(method, template).observe(seconds)

    def booking(self, status: int, body: bytes) -> None:
        """Count a booking's outcome: booked, a conflict by its code, or refused (any other error)."""
        if status == 201:
            self.bookings.labels("booked").inc()
        elif status == 409:
            code = _problem_code(body)
            self.bookings.labels(code if code in BOOKING_CONFLICTS else "conflict").inc()
        elif status < 500:
            self.bookings.labels("refused").inc()

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def _problem_code(body: bytes) -> str | None:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None
