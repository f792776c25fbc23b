"""Setting up: sites, staff, services, weekly rules, absences, openings and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from scheduler.db import appointments
from scheduler.db import rows as setup_rows
from scheduler.db import rules as rule_store
from scheduler.db.tables import (
    Absence,
    ApiKey,
    AvailabilityRule,
    Closure,
    Interpreter,
    Opening,
    RuleService,
    Service,
    Site,
    Staff,
)
from scheduler.domain.calendars import holiday_calendar_key
from scheduler.domain.consistency import (
    interpreter_rule_problem,
    interval_problem,
    school_zone_problem,
    validity_problem,
)
from scheduler.domain.errors import InUse, InvalidInput, NotFound
from scheduler.services.paging import PageOf, cut, decode_cursor

Row = TypeVar("Row", bound=SQLModel)
MAX_LIMIT = 500


async def get(session: AsyncSession, table: type[Row], ident: str, kind: str) -> Row:
    """A row by id, or NotFound."""
    row = await session.get(table, ident)
    if row is None:
        raise NotFound(kind, ident)
    return row


async def page(
    session: AsyncSession, table: type[Row], cursor: str | None, limit: int, *where: Any
) -> PageOf[Row]:
    """A page of rows ordered by id (ids are opaque, the order merely stable)."""
    rows = await setup_rows.page_by_id(
        session, table, decode_cursor(cursor, 1)[0] if cursor else None, limit, *where
    )
    return cut(rows, limit, lambda row: (row.id,))  # type: ignore[attr-defined]


async def create(session: AsyncSession, row: Row) -> Row:
    """Insert a row; a dangling reference is a 404 on the referenced id."""
    session.add(row)
    await session.flush()
    return row


def apply_changes(row: Row, changes: dict[str, Any]) -> Row:
    """Set the given fields on a row, checked as the merged row a create would have to pass.

    Null is refused where the column needs a value, and the cross-field rules (a rule's
    validity, an interval's order, a school's zone) hold for the row as it would be stored,
    so that a PATCH of one field cannot break what another field needs.

    Raises:
        InvalidInput: before anything is changed.
    """
    columns = row.__table__.c  # type: ignore[attr-defined]
    for name, value in changes.items():
        if value is None and not columns[name].nullable:
            raise InvalidInput(f"{name}: may be changed but not removed.")
    names = [column.name for column in columns]
    problem = merged_problem(row, {name: changes.get(name, getattr(row, name)) for name in names})
    if problem is not None:
        raise InvalidInput(problem)
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def merged_problem(row: SQLModel, merged: dict[str, Any]) -> str | None:
    """What is wrong with ``row``'s fields once merged with a change, or None."""
    if isinstance(row, AvailabilityRule):
        return (validity_problem(merged["valid_from"], merged["valid_until"])
                or interpreter_rule_problem(merged["interpreter_id"], merged["follows_school_calendar"]))
    if isinstance(row, Absence | Opening | Closure):
        return interval_problem(merged["start"], merged["end"])
    if isinstance(row, Site):
        calendar = holiday_calendar_key(merged["holiday_region"], merged["timezone"])
        return school_zone_problem(merged["kind"], merged["school_zone"], calendar)
    return None


async def require(session: AsyncSession, table: type[SQLModel], ident: str, kind: str) -> None:
    """NotFound unless a referenced row exists."""
    if await session.get(table, ident) is None:
        raise NotFound(kind, ident)


async def check_rule_refs(session: AsyncSession, rule: AvailabilityRule, service_ids: Sequence[str]) -> None:
    """Every id a rule names must exist."""
    if rule.staff_id is not None:
        await require(session, Staff, rule.staff_id, "staff member")
    if rule.interpreter_id is not None:
        await require(session, Interpreter, rule.interpreter_id, "interpreter")
    if rule.site_id is not None:
        await require(session, Site, rule.site_id, "site")
    for service_id in service_ids:
        await require(session, Service, service_id, "service")


async def create_rule(
    session: AsyncSession, rule: AvailabilityRule, service_ids: Sequence[str]
) -> AvailabilityRule:
    """A weekly rule (of a staff member, or of an interpreter) and the services it offers."""
    await check_rule_refs(session, rule, service_ids)
    session.add(rule)
    await session.flush()
    for service_id in dict.fromkeys(service_ids):
        session.add(RuleService(rule_id=rule.id, service_id=service_id))
    await session.flush()
    return rule


async def rule_services(session: AsyncSession, rule_ids: Sequence[str]) -> dict[str, list[str]]:
    """The service ids of each rule."""
    return await rule_store.services_of(session, rule_ids)


async def delete_rule(session: AsyncSession, rule_id: str) -> None:
    """Delete a rule; booked appointments stay booked."""
    await get(session, AvailabilityRule, rule_id, "availability rule")
    await rule_store.delete_with_services(session, rule_id)


async def delete_referenced(
    session: AsyncSession, table: type[Row], ident: str, kind: str, column: Any, now: datetime
) -> None:
    """Delete a site, staff member or service unless a future appointment needs it."""
    row = await get(session, table, ident, kind)
    if await appointments.any_to_come(session, column, ident, ("booked", "confirmed"), now):
        raise InUse(f"This {kind} is needed by future appointments; cancel or move them first.")
    if not await setup_rows.delete_unreferenced(session, row):
        raise InUse(
            f"This {kind} is still referenced by weekly rules or past appointments; end its rules instead.")


async def active_key(session: AsyncSession, key_id: str) -> ApiKey:
    """An API key that is not revoked, or NotFound (a revoked key is gone for its owner)."""
    key = await get(session, ApiKey, key_id, "API key")
    if key.revoked_at is not None:
        raise NotFound("API key", key_id)
    return key


async def update_key(session: AsyncSession, key_id: str, changes: dict[str, Any]) -> ApiKey:
    """Rename an active key or change its scopes (stored sorted, without repeats)."""
    key = await active_key(session, key_id)
    if "scopes" in changes and changes["scopes"] is not None:
        changes = {**changes, "scopes": sorted(set(changes["scopes"]))}
    apply_changes(key, changes)
    await session.flush()
    return key


async def revoke_key(session: AsyncSession, key_id: str, now: datetime) -> None:
    """Revoke an API key; revoking twice is harmless."""
    key = await get(session, ApiKey, key_id, "API key")
    if key.revoked_at is None:
        key.revoked_at = now
