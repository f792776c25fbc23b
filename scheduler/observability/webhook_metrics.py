"""Webhook metrics, read at scrape time: deliveries by endpoint and status, attempts, oldest pending age.

Labelled by endpoint id only: never the URL, whose path or query may carry the receiver's own
secret. The attempt counter by outcome is per process, like the HTTP counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import webhooks as store


class WebhookSnapshot:
    """The delivery table as last read."""

    def __init__(self) -> None:
        self.deliveries: dict[tuple[str, str], int] = {}
        self.attempts: dict[str, int] = {}
        self.oldest_pending_seconds: dict[str, float] = {}

    async def read(self, session: AsyncSession, now: datetime) -> None:
        """Two aggregate queries over the delivery table."""
        counts, oldest = await store.health(session, now)
        self.deliveries = {(endpoint, status): int(count) for endpoint, status, count, _ in counts}
        self.attempts = {}
        for endpoint, _status, _count, attempts in counts:
            self.attempts[endpoint] = self.attempts.get(endpoint, 0) + int(attempts or 0)
        self.oldest_pending_seconds = {endpoint: max(0.0, (now - _aware(created, now)).total_seconds())
                                       for endpoint, created in oldest if created is not None}


def _aware(value: datetime, like: datetime) -> datetime:
    # SQLite may hand back a naive UTC datetime from an aggregate.
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)


class WebhookCollector(Collector):
    """Exposes the snapshot, and this process's attempts by outcome."""

    def __init__(self, snapshot: WebhookSnapshot, outcomes: Callable[[], Mapping[str, int]]) -> None:
        self._snapshot = snapshot
        self._outcomes = outcomes

    def collect(self) -> Iterator[Metric]:
        deliveries = GaugeMetricFamily(
            "creneau_webhook_deliveries",
            "Webhook deliveries by endpoint and status.",
            labels=["endpoint_id", "status"],
        )
        for (endpoint, status), count in sorted(self._snapshot.deliveries.items()):
            deliveries.add_metric([endpoint, status], count)
        yield deliveries
        attempts = GaugeMetricFamily(
            "creneau_webhook_delivery_attempts",
            "Attempts recorded on the endpoint's deliveries (since each was queued).",
            labels=["endpoint_id"],
        )
        for endpoint, count in sorted(self._snapshot.attempts.items()):
            attempts.add_metric([endpoint], count)
        yield attempts
        oldest = GaugeMetricFamily("creneau_webhook_oldest_pending_seconds",
                                   "Age of the endpoint's oldest pending delivery.", labels=["endpoint_id"])
        for endpoint, seconds in sorted(self._snapshot.oldest_pending_seconds.items()):
            oldest.add_metric([endpoint], seconds)
        yield oldest
        outcomes = CounterMetricFamily(
            "creneau_webhook_attempts", "Delivery attempts of this process, by outcome.", labels=["outcome"]
        )
        for outcome, count in sorted(self._outcomes().items()):
            outcomes.add_metric([outcome], count)
        yield outcomes
