"""The application in-process (Litestar's test client) on a real database of each kind, on a clock the
test moves: what happened yesterday (outcomes, late cancellations) can be written today."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient

from notifications.dispatcher import Dispatcher
from notifications.senders.memory import InMemorySmsSender
from scheduler.app import create_app
from scheduler.settings import Settings
from tests.support.clock import FixedClock
from tests.support.databases import DatabaseHandle

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class InProcess:
    """The client, the clock it runs on, and the SMS the memory backend accepted."""

    client: TestClient  # type: ignore[type-arg]
    clock: FixedClock
    sender: InMemorySmsSender
    public_url: str
    dispatcher: Dispatcher

    def dispatch(self) -> None:
        """One pass of the dispatcher, on the app's event loop: every SMS due by the clock is sent."""
        self.client.blocking_portal.call(self.dispatcher.run_once)


@pytest.fixture
def app(database: DatabaseHandle) -> Iterator[InProcess]:
    """The app on ``database``, with an admin key, the memory SMS backend and a fixed clock."""
    admin_key = secrets.token_urlsafe(24)
    public_url = "http://testserver.local"
    settings = Settings.from_env({
        "CRENEAU_DATABASE_URL": database.url, "CRENEAU_ADMIN_API_KEY": admin_key,
        "CRENEAU_SMS_BACKEND": "memory", "CRENEAU_SECRET_KEY": secrets.token_urlsafe(32),
        "CRENEAU_PUBLIC_URL": public_url,
        # The test dispatches by hand (``InProcess.dispatch``): the job's own runs would race it, and
        # APScheduler walks every missed run since the clock's past start.
        "CRENEAU_DISPATCH_INTERVAL_SECONDS": "3600",
    })
    clock = FixedClock(START)
    application = create_app(settings, clock=clock)
    sender = application.state.services.sender
    assert isinstance(sender, InMemorySmsSender)
    with TestClient(app=application, base_url=public_url) as client:
        client.headers["Authorization"] = f"Bearer {admin_key}"
        yield InProcess(client, clock, sender, public_url, application.state.services.dispatcher)
