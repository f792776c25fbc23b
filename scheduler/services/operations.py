"""What operators ask the service: whether the database answers, and the outbox figures to scrape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scheduler.db.outage import RETRY_AFTER_SECONDS, is_database_outage

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.observability.metrics import Metrics
    from scheduler.observability.webhook_metrics import WebhookSnapshot


__all__ = ["RETRY_AFTER_SECONDS", "database_answers", "is_database_outage", "read_outbox_figures"]


async def database_answers(deps: Collaborators) -> bool:
    """True when the database runs a trivial query; False when it is down or unreachable."""
    try:
        async with deps.db.read() as session:
            await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


async def read_outbox_figures(deps: Collaborators, metrics: Metrics, webhooks: WebhookSnapshot) -> None:
    """Refresh the scraped figures of both outboxes from the database: SMS (messages by status,
    dispatch lag) and webhook deliveries (by status and endpoint, oldest pending)."""
    async with deps.db.read() as session:
        await metrics.outbox.read(session, deps.clock.now())
        await webhooks.read(session, deps.clock.now())
