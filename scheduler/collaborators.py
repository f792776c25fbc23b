"""The collaborators every use case needs, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications.dispatcher import Dispatcher
from notifications.senders.base import SmsSender
from scheduler.db.engine import Database
from scheduler.ports import Clock, HolidayCalendar
from scheduler.services.availability import LoadedSearches
from scheduler.services.notify import MessagePlanner
from scheduler.services.webhook_endpoints import WebhookSettings
from scheduler.settings import Settings
from scheduler.webhooks.delivery import WebhookDeliverer


@dataclass(frozen=True, slots=True)
class Collaborators:
    """Database, clock, holiday calendar, messaging and settings (``app.state.services``)."""

    db: Database
    clock: Clock
    calendar: HolidayCalendar
    settings: Settings
    sender: SmsSender
    planner: MessagePlanner
    dispatcher: Dispatcher
    webhooks: WebhookSettings | None = None
    """Endpoint secrets' key and the address rule; None: webhooks are off (no CRENEAU_SECRET_KEY)."""
    deliverer: WebhookDeliverer | None = None
    searches: LoadedSearches = field(default_factory=LoadedSearches)
    """What slot searches load before their holds, kept while the rules' change counter stays put."""
