"""The collaborators every use case needs, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.db.engine import Database
from scheduler.ports import Clock, HolidayCalendar
from scheduler.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    """Database, clock, holiday calendar and settings (``app.state.services``)."""

    db: Database
    clock: Clock
    calendar: HolidayCalendar
    settings: Settings
