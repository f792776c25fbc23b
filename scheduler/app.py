"""create_app(settings): the Litestar application, wired once from typed settings."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from notifications.dispatcher import Dispatcher
from notifications.policy import QuietHours
from notifications.send_rate import rate_limiter
from notifications.senders.base import SmsSender
from notifications.senders.factory import TwilioAccount, build_sender
from notifications.texts import default_catalog
from scheduler import __version__, gc_tuning
from scheduler.api.admin import InterpreterController, ServiceController, SiteController, StaffController
from scheduler.api.appointments import AppointmentController
from scheduler.api.audit import AuditController, note_access
from scheduler.api.auth import ApiKeyMiddleware, KeyRing
from scheduler.api.availability import AbsenceController, OpeningController, RuleController
from scheduler.api.closures import ClosureController
from scheduler.api.common import services
from scheduler.api.events import EventController
from scheduler.api.families import FamilyController
from scheduler.api.family_links import FamilyLinkController
from scheduler.api.feeds import FeedAdminController, FeedController
from scheduler.api.health import HealthController
from scheduler.api.imports import AppointmentImportController
from scheduler.api.inputs import InputsPlugin
from scheduler.api.interpreters import ExternalInterpreterController, StatsController
from scheduler.api.keys import ApiKeyController
from scheduler.api.messages import MessageController
from scheduler.api.metrics import MetricsController
from scheduler.api.openapi import document_errors, document_examples
from scheduler.api.openapi_document import finish_document
from scheduler.api.pathway_slots import PathwaySlotController
from scheduler.api.pathways import PathwayController
from scheduler.api.problems import EXCEPTION_HANDLERS
from scheduler.api.replies import ReplyController
from scheduler.api.reports import ReportController
from scheduler.api.slot_cache import SlotPageCache
from scheduler.api.slots import SlotController
from scheduler.api.stats import AppointmentStatsController
from scheduler.api.waitlist import WaitlistController
from scheduler.api.webhook_endpoints import WebhookEndpointController
from scheduler.api.webhooks import TwilioWebhookController
from scheduler.collaborators import Collaborators
from scheduler.db.engine import Database
from scheduler.db.outbox_store import SqlOutboxStore
from scheduler.family_page.controller import (
    FamilyPage,
    FamilyPageController,
    RebookController,
    template_config,
)
from scheduler.family_page.offer_controller import OfferController
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.http import api_docs
from scheduler.http.allow import allow_every_method
from scheduler.http.headers import SecurityHeaders
from scheduler.http.json_depth import refuse_deep_json
from scheduler.jobs import Jobs
from scheduler.number_digests import NumberDigests
from scheduler.observability.metrics import Metrics
from scheduler.observability.middleware import RequestObserver
from scheduler.observability.ratelimit import limit_store, rate_limiting
from scheduler.observability.webhook_metrics import WebhookCollector, WebhookSnapshot
from scheduler.ports import Clock, HolidayCalendar, SystemClock
from scheduler.report_page.controller import ReportPage, ReportPageController
from scheduler.services.audit import AuditLog
from scheduler.services.family_links import FamilyLinkIssuer, LinkMaker
from scheduler.services.feeds import FeedBodies
from scheduler.services.notify import MessagePlanner
from scheduler.services.webhook_endpoints import WebhookSettings
from scheduler.settings import Settings
from scheduler.staff_page.controller import StaffPage, StaffPageController
from scheduler.webhooks.delivery import DeliveryConfig, WebhookDeliverer
from scheduler.webhooks.secrets import SecretBox

log = logging.getLogger("creneau")
PUBLIC_PATHS = ["^/health", "^/schema", "^/feeds/", "^/webhooks/", "^/r/", "^/reports/", "^/metrics", "^/s/"]
JSON_METHODS = {"POST", "PATCH", "PUT"}
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def create_app(
    settings: Settings, *, clock: Clock | None = None, calendar: HolidayCalendar | None = None
) -> Litestar:
    """The application for ``settings``; tests may pass a fixed clock."""
    db = Database.from_url(settings.database_url, timeout=settings.database_timeout_seconds)
    clock = clock or SystemClock()
    sender = sms_sender(settings)
    quiet = QuietHours.parse(settings.quiet_hours)
    links = LinkMaker.from_settings(settings)
    store = SqlOutboxStore(db, NumberDigests.from_settings(settings))
    dispatcher = Dispatcher(
        store=store,
        sender=sender,
        catalog=default_catalog(),
        clock=clock,
        quiet=quiet,
        limiter=rate_limiter(settings.sms_rate_per_second, settings.redis_url),
        rate_per_second=settings.sms_rate_per_second,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        links=links,
    )
    planner = MessagePlanner(
        quiet, family_links=FamilyLinkIssuer(links, timedelta(days=settings.family_link_days))
    )
    webhooks, deliverer = _webhooks(settings, db, clock)
    svc = Collaborators(
        db=db,
        clock=clock,
        calendar=calendar or FrenchHolidayCalendar(),
        settings=settings,
        sender=sender,
        planner=planner,
        dispatcher=dispatcher,
        webhooks=webhooks,
        deliverer=deliverer,
    )
    admin_key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    jobs = Jobs(svc)
    bodies = FeedBodies()
    metrics = Metrics(feed_builds=lambda: bodies.builds)
    webhook_metrics = WebhookSnapshot()
    metrics.registry.register(WebhookCollector(webhook_metrics, lambda: deliverer.outcomes))
    limits = limit_store(settings)
    keyring = KeyRing(db, admin_key, clock=svc.clock)
    audit_trail = AuditLog(db, svc.clock)
    state = State({"services": svc, "audit": audit_trail, "keyring": keyring, "jobs": jobs,
                   "family_page": FamilyPage.from_settings(settings, links, limits), "feed_bodies": bodies,
                   "slot_pages": SlotPageCache(settings.slots_cache_seconds, settings.slots_cache_bytes),
                   "metrics": metrics, "webhook_metrics": webhook_metrics,
                   "report_page": ReportPage.from_settings(settings, limits),
                   "staff_page": StaffPage.from_settings(settings, links.secret, limits)})
    app = Litestar(
        route_handlers=[
            HealthController, SiteController, StaffController, ServiceController, RuleController,
            AbsenceController, OpeningController, ApiKeyController, SlotController, AppointmentController,
            AppointmentImportController, MessageController, ReplyController, FamilyLinkController,
            TwilioWebhookController, InterpreterController, ExternalInterpreterController, StatsController,
            AppointmentStatsController, EventController, WebhookEndpointController,
            FeedAdminController, FeedController, FamilyPageController, ReportController, ReportPageController,
            PathwaySlotController, ClosureController, RebookController, FamilyController, PathwayController,
            StaffPageController, AuditController, WaitlistController, OfferController,
            *([MetricsController] if settings.metrics_enabled else []), api_docs.assets_router(),
        ],
        template_config=template_config(),
        state=state,
        dependencies={"svc": Provide(services, sync_to_thread=False)},
        # The limiter runs first: a caller over its limit costs no key lookup.
        middleware=[*rate_limiting(settings, limits),
                    DefineMiddleware(ApiKeyMiddleware, exclude=PUBLIC_PATHS)],
        # ApiDate parameters, and the 422 on a control character in a URL (after the key check).
        plugins=[InputsPlugin()],
        before_request=_require_json,
        before_send=[note_access, allow_every_method],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[audit_trail.start, jobs.start, document_errors, document_examples, finish_document,
                    gc_tuning.settle_after_start_up],
        on_shutdown=[jobs.stop, keyring.drain, audit_trail.close, dispatcher.aclose, deliverer.aclose,
                     sender.aclose, db.dispose, limits.aclose],
        openapi_config=_openapi(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        # Logging is configured once by the CLI (JSON, request ids, redaction), not by Litestar.
        logging_config=None,
    )
    # Outside the router, so that unknown paths get a request id and are counted too.
    app.asgi_handler = RequestObserver(app.asgi_handler, metrics, access_log=settings.access_log)
    app.asgi_handler = SecurityHeaders(app.asgi_handler, https=settings.public_url.startswith("https://"))
    return app


async def _require_json(request: Request[Any, Any, Any]) -> None:
    """A body that is not JSON is refused before anything parses it."""
    if request.method not in JSON_METHODS or not request.url.path.startswith("/v1/"):
        return
    if request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(status_code=415, detail="Send the body as application/json.")
    refuse_deep_json(await request.body())


def sms_sender(settings: Settings) -> SmsSender:
    """The sender ``CRENEAU_SMS_BACKEND`` names; Twilio's needs its credentials (checked at start-up)."""
    twilio = None
    if settings.sms_backend == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_sender
        twilio = TwilioAccount(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                               settings.twilio_sender, settings.twilio_api_base,
                               status_callback_url=settings.public_url + STATUS_CALLBACK_PATH)
    # In demo mode the terminal plays the family's phone (see ConsoleSmsSender).
    return build_sender(settings.sms_backend, twilio, screen=sys.stdout if settings.demo else None)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="créneau",
        version=__version__,
        description="Appointment scheduling and SMS reminders for social and educational support programmes.",
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="An API key with scopes."),
            }
        ),
        security=[{"apiKey": []}],
        use_handler_docstrings=True,
        render_plugins=api_docs.render_plugins(),
    )



def _webhooks(
    settings: Settings, db: Database, clock: Clock
) -> tuple[WebhookSettings | None, WebhookDeliverer]:
    """Endpoint secrets are sealed under a key derived from CRENEAU_SECRET_KEY: without it, no webhooks."""
    box = SecretBox(settings.secret_key.get_secret_value()) if settings.secret_key else None
    config = DeliveryConfig(
        allow_private=settings.webhook_allow_private,
        backoff_scale=settings.webhook_backoff_scale,
        per_endpoint=settings.webhook_concurrency_per_endpoint,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
    )
    webhooks = WebhookSettings(box, settings.webhook_allow_private) if box else None
    return webhooks, WebhookDeliverer(db, clock, box, config)


def app_from_env() -> Litestar:
    """Factory for server workers: settings from the environment (validated again per process)."""
    import os

    return create_app(Settings.from_env(os.environ))
