"""GET /metrics: Prometheus text format (no API key; switched off by ``CRENEAU_METRICS_ENABLED=false``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from scheduler.api.common import Services
from scheduler.observability.metrics import CONTENT_TYPE, Metrics
from scheduler.services.operations import read_outbox_figures


class MetricsController(Controller):
    """The scrape endpoint."""

    path = "/metrics"
    tags = ("operations",)

    @get("/", operation_id="metrics", summary="Prometheus metrics", exclude_from_auth=True, security=[],
         cache=False, media_type=CONTENT_TYPE)
    async def metrics(self, request: Request[Any, Any, Any], svc: Services) -> Response[bytes]:
        """Requests, bookings, SMS by status, dispatch lag and feed builds, in the text exposition format."""
        metrics: Metrics = request.app.state.metrics
        await read_outbox_figures(svc, metrics, request.app.state.webhook_metrics)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)
