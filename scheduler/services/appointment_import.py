"""Import of past appointments kept in another tool: every item checked, then all or none written.

Idempotent on ``external_id``: an item imported before is counted, not written again. No SMS
is queued and no event recorded: these appointments are history, for the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import appointment_imports as store
from scheduler.db.engine import Database
from scheduler.domain.errors import InvalidInput

STATUSES = ("attended", "no_show", "cancelled")


@dataclass(frozen=True, slots=True)
class PastAppointment:
    """One item to import (aware datetimes; the language already normalised)."""

    external_id: str
    service_id: str
    staff_id: str
    site_id: str
    start: datetime
    end: datetime
    status: str
    family_reference: str
    family_language: str


@dataclass(frozen=True, slots=True)
class ItemError:
    """What is wrong with the item at ``index`` (0-based, in the order given)."""

    index: int
    detail: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many were written, and how many had been imported before."""

    imported: int
    already_imported: int


class ImportRefused(InvalidInput):
    """At least one item is wrong: nothing was imported."""

    code = "import-refused"
    title = "Import refused"

    def __init__(self, errors: Sequence[ItemError]) -> None:
        super().__init__(f"{len(errors)} item(s) refused; nothing was imported.",
                         errors=[{"field": f"items.{error.index}", "message": error.detail,
                                  "item": error.index} for error in errors])
        self.errors = list(errors)


def item_problems(items: Sequence[PastAppointment], now: datetime) -> list[ItemError]:
    """What can be checked without the database: times, status, ids repeated in the file."""
    errors: list[ItemError] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.end <= item.start:
            errors.append(ItemError(index, "`end` must be after `start`."))
        elif item.end > now:
            errors.append(ItemError(index, "Only past appointments can be imported: `end` is to come."))
        if item.status not in STATUSES:
            errors.append(ItemError(index, f"`status` must be one of {', '.join(STATUSES)}."))
        if item.external_id in seen:
            errors.append(ItemError(index, f"`external_id` repeats item {seen[item.external_id]}."))
        seen.setdefault(item.external_id, index)
    return errors


async def import_past(db: Database, items: Sequence[PastAppointment], now: datetime) -> ImportResult:
    """Check every item, then write the new ones in one transaction.

    Raises:
        ImportRefused: with every wrong item; then nothing is written.
    """
    errors = item_problems(items, now)
    async with db.write() as session:
        services, staff, sites = await store.known_ids(
            session, (i.service_id for i in items), (i.staff_id for i in items), (i.site_id for i in items))
        errors += _unknown_ids(items, services, staff, sites)
        if errors:
            raise ImportRefused(sorted(errors, key=lambda error: error.index))
        before = await store.imported_before(session, (item.external_id for item in items))
        fresh = [item for item in items if item.external_id not in before]
        families = await _families(session, fresh, now)
        for item in fresh:
            hold_id = await store.history_hold(session, item.staff_id, item.service_id, item.start, item.end)
            await store.add_imported(session, item.external_id, {
                "status": item.status, "service_id": item.service_id, "staff_id": item.staff_id,
                "site_id": item.site_id, "family_id": families[item.family_reference],
                "starts_at": item.start, "ends_at": item.end, "staff_hold_id": hold_id}, now)
    return ImportResult(len(fresh), len(items) - len(fresh))


def _unknown_ids(items: Sequence[PastAppointment], services: set[str], staff: set[str],
                 sites: set[str]) -> list[ItemError]:
    errors = []
    for index, item in enumerate(items):
        checks = (("service_id", item.service_id, services), ("staff_id", item.staff_id, staff),
                  ("site_id", item.site_id, sites))
        for name, value, known in checks:
            if value not in known:
                errors.append(ItemError(index, f"Unknown `{name}` {value!r}."))
    return errors


async def _families(session: AsyncSession, items: Sequence[PastAppointment], now: datetime) -> dict[str, str]:
    """Reference → family id, adding the families not known yet (with the language of their first item)."""
    known = await store.family_ids(session, (item.family_reference for item in items))
    last: dict[str, datetime] = {}
    for item in items:
        last[item.family_reference] = max(item.end, last.get(item.family_reference, item.end))
    for item in items:
        if item.family_reference not in known:
            known[item.family_reference] = await store.add_family(
                session, item.family_reference, item.family_language, last[item.family_reference], now)
    return known
