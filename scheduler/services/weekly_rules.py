"""Admin use cases on weekly availability rules, each rule with the services it offers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import rules as rule_store
from scheduler.db import waitlist
from scheduler.db.tables import AvailabilityRule
from scheduler.domain.errors import RuleOverlap
from scheduler.domain.rule_overlap import Recurrence, first_meeting
from scheduler.services import admin, idempotency
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

NOUN = "availability rule"


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule and the ids of the services it offers."""

    rule: AvailabilityRule
    service_ids: list[str]


async def create(
    deps: Collaborators,
    fields: dict[str, Any],
    service_ids: Sequence[str],
    request: IdempotentRequest | None,
    render: Callable[[RuleView], Created],
) -> Created | StoredResponse:
    """Create a rule offering ``service_ids`` (repeats dropped) and answer with ``render`` of it."""
    now = deps.clock.now()

    async def operation(session: AsyncSession) -> Created:
        rule = AvailabilityRule(**fields, created_at=now)
        await admin.create_rule(session, rule, service_ids)
        await _refuse_overlap(session, rule)
        await waitlist.wake(session, now)  # new times for waiting families
        return render(RuleView(rule, list(dict.fromkeys(service_ids))))

    return await idempotency.create(deps.db, request, operation, now)


async def page(
    deps: Collaborators, cursor: str | None, limit: int, staff_id: str | None, interpreter_id: str | None
) -> PageOf[RuleView]:
    """A page of rules, of one staff member or interpreter when given."""
    where = [
        column == value
        for column, value in (
            (AvailabilityRule.staff_id, staff_id),
            (AvailabilityRule.interpreter_id, interpreter_id),
        )
        if value
    ]
    async with deps.db.read() as session:
        found = await admin.page(session, AvailabilityRule, cursor, limit, *where)
        services = await admin.rule_services(session, [rule.id for rule in found.rows])
    return PageOf([RuleView(rule, services[rule.id]) for rule in found.rows], found.next_cursor)


async def read(deps: Collaborators, rule_id: str) -> RuleView:
    """A rule, or NotFound."""
    async with deps.db.read() as session:
        return await _view(session, await admin.get(session, AvailabilityRule, rule_id, NOUN))


async def update(deps: Collaborators, rule_id: str, changes: dict[str, Any]) -> RuleView:
    """End or change a rule, checked as a whole (see ``admin.apply_changes``)."""
    async with deps.db.write() as session:
        rule = admin.apply_changes(await admin.get(session, AvailabilityRule, rule_id, NOUN), changes)
        await _refuse_overlap(session, rule)
        await session.flush()
        return await _view(session, rule)


async def delete(deps: Collaborators, rule_id: str) -> None:
    """Delete a rule; booked appointments stay booked."""
    async with deps.db.write() as session:
        await admin.delete_rule(session, rule_id)


async def _view(session: AsyncSession, rule: AvailabilityRule) -> RuleView:
    return RuleView(rule, (await admin.rule_services(session, [rule.id]))[rule.id])


async def _refuse_overlap(session: AsyncSession, rule: AvailabilityRule) -> None:
    """RuleOverlap naming the first other rule of the same person that ``rule`` meets, at any site."""
    mine = _recurrence(rule)
    for other in await rule_store.of_same_person(session, rule):
        day = first_meeting(mine, _recurrence(other))
        if day is not None:
            raise RuleOverlap(other.id, day.isoformat())


def _recurrence(rule: AvailabilityRule) -> Recurrence:
    return Recurrence(rule.weekday, rule.start_time, rule.end_time, rule.valid_from, rule.valid_until,
                      rule.every_weeks)
