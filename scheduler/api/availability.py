"""Admin: weekly availability rules, absences and extra openings."""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Collaborators, Cursor, IdempotencyKey, Limit, create_idempotently
from scheduler.db.tables import Absence, AvailabilityRule, Interpreter, Opening, Service, Site, Staff
from scheduler.services import admin


def rule_out(rule: AvailabilityRule, service_ids: list[str]) -> s.RuleOut:
    """The API view of a rule."""
    return s.RuleOut(
        id=rule.id, staff_id=rule.staff_id, interpreter_id=rule.interpreter_id, site_id=rule.site_id, service_ids=service_ids, weekday=rule.weekday,
        start_time=_hhmm(rule.start_time), end_time=_hhmm(rule.end_time), valid_from=rule.valid_from,
        valid_until=rule.valid_until, follows_school_calendar=rule.follows_school_calendar,
    )


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


class RuleController(Controller):
    """Weekly availability rules."""

    path = "/v1/availability-rules"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_availability_rule", summary="Create a weekly rule", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.RuleCreate, svc: Collaborators,
        idempotency_key: IdempotencyKey = None,
    ) -> s.RuleOut:
        async def operation(session: AsyncSession) -> BaseModel:
            start, end = data.times()
            rule = AvailabilityRule(
                staff_id=data.staff_id, interpreter_id=data.interpreter_id, site_id=data.site_id, weekday=data.weekday, start_time=start,
                end_time=end, valid_from=data.valid_from, valid_until=data.valid_until,
                follows_school_calendar=data.follows_school_calendar, created_at=svc.clock.now(),
            )
            await admin.create_rule(session, rule, data.service_ids)
            return rule_out(rule, list(dict.fromkeys(data.service_ids)))

        return await create_idempotently(request, svc, data, idempotency_key, operation)  # type: ignore[return-value]

    @get("/", operation_id="list_availability_rules", summary="List weekly rules")
    async def list_rules(
        self, svc: Collaborators, limit: Limit = 100, cursor: Cursor = None,
        staff_id: str | None = Parameter(default=None, max_length=64),
        interpreter_id: str | None = Parameter(default=None, max_length=64),
    ) -> s.Page[s.RuleOut]:
        where = [column == value for column, value in ((AvailabilityRule.staff_id, staff_id),
                                                       (AvailabilityRule.interpreter_id, interpreter_id)) if value]
        async with svc.db.read() as session:
            found = await admin.page(session, AvailabilityRule, cursor, limit, *where)
            services = await admin.rule_services(session, [rule.id for rule in found.rows])
        return s.Page(items=[rule_out(r, services[r.id]) for r in found.rows], next_cursor=found.next_cursor)

    @get("/{rule_id:str}", operation_id="get_availability_rule", summary="Read a weekly rule")
    async def read(self, svc: Collaborators, rule_id: str = Parameter(max_length=64)) -> s.RuleOut:
        async with svc.db.read() as session:
            rule = await admin.get(session, AvailabilityRule, rule_id, "availability rule")
            return rule_out(rule, (await admin.rule_services(session, [rule.id]))[rule.id])

    @patch("/{rule_id:str}", operation_id="update_availability_rule", summary="End or change a weekly rule")
    async def update(self, data: s.RuleUpdate, svc: Collaborators, rule_id: str = Parameter(max_length=64)) -> s.RuleOut:
        async with svc.db.write() as session:
            rule = await admin.get(session, AvailabilityRule, rule_id, "availability rule")
            admin.apply_changes(rule, data.model_dump(exclude_unset=True))
            await session.flush()
            return rule_out(rule, (await admin.rule_services(session, [rule.id]))[rule.id])

    @delete("/{rule_id:str}", operation_id="delete_availability_rule", summary="Delete a weekly rule",
            status_code=204)
    async def remove(self, svc: Collaborators, rule_id: str = Parameter(max_length=64)) -> None:
        async with svc.db.write() as session:
            await admin.delete_rule(session, rule_id)


class AbsenceController(Controller):
    """Absences of staff members."""

    path = "/v1/absences"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_absence", summary="Record an absence", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.AbsenceCreate, svc: Collaborators,
        idempotency_key: IdempotencyKey = None,
    ) -> s.AbsenceOut:
        async def operation(session: AsyncSession) -> BaseModel:
            if data.staff_id is not None:
                await admin.require(session, Staff, data.staff_id, "staff member")
            if data.interpreter_id is not None:
                await admin.require(session, Interpreter, data.interpreter_id, "interpreter")
            row = Absence(**data.model_dump(), created_at=svc.clock.now())
            return s.AbsenceOut.model_validate(await admin.create(session, row), from_attributes=True)

        return await create_idempotently(request, svc, data, idempotency_key, operation)  # type: ignore[return-value]

    @get("/", operation_id="list_absences", summary="List absences")
    async def list_absences(
        self, svc: Collaborators, limit: Limit = 100, cursor: Cursor = None,
        staff_id: str | None = Parameter(default=None, max_length=64),
        interpreter_id: str | None = Parameter(default=None, max_length=64),
    ) -> s.Page[s.AbsenceOut]:
        where = [column == value for column, value in ((Absence.staff_id, staff_id),
                                                       (Absence.interpreter_id, interpreter_id)) if value]
        async with svc.db.read() as session:
            found = await admin.page(session, Absence, cursor, limit, *where)
        items = [s.AbsenceOut.model_validate(row, from_attributes=True) for row in found.rows]
        return s.Page(items=items, next_cursor=found.next_cursor)

    @get("/{absence_id:str}", operation_id="get_absence", summary="Read an absence")
    async def read(self, svc: Collaborators, absence_id: str = Parameter(max_length=64)) -> s.AbsenceOut:
        async with svc.db.read() as session:
            row = await admin.get(session, Absence, absence_id, "absence")
        return s.AbsenceOut.model_validate(row, from_attributes=True)

    @patch("/{absence_id:str}", operation_id="update_absence", summary="Change an absence")
    async def update(self, data: s.AbsenceUpdate, svc: Collaborators,
                     absence_id: str = Parameter(max_length=64)) -> s.AbsenceOut:
        async with svc.db.write() as session:
            row = admin.apply_changes(await admin.get(session, Absence, absence_id, "absence"),
                                      data.model_dump(exclude_unset=True))
            await session.flush()
            return s.AbsenceOut.model_validate(row, from_attributes=True)

    @delete("/{absence_id:str}", operation_id="delete_absence", summary="Delete an absence", status_code=204)
    async def remove(self, svc: Collaborators, absence_id: str = Parameter(max_length=64)) -> None:
        async with svc.db.write() as session:
            await session.delete(await admin.get(session, Absence, absence_id, "absence"))


class OpeningController(Controller):
    """One-off extra openings."""

    path = "/v1/openings"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_opening", summary="Add an extra opening", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.OpeningCreate, svc: Collaborators,
        idempotency_key: IdempotencyKey = None,
    ) -> s.OpeningOut:
        async def operation(session: AsyncSession) -> BaseModel:
            await admin.require(session, Staff, data.staff_id, "staff member")
            await admin.require(session, Site, data.site_id, "site")
            for service_id in data.service_ids:
                await admin.require(session, Service, service_id, "service")
            row = Opening(**data.model_dump(), created_at=svc.clock.now())
            return s.OpeningOut.model_validate(await admin.create(session, row), from_attributes=True)

        return await create_idempotently(request, svc, data, idempotency_key, operation)  # type: ignore[return-value]

    @get("/", operation_id="list_openings", summary="List extra openings")
    async def list_openings(self, svc: Collaborators, limit: Limit = 100, cursor: Cursor = None) -> s.Page[s.OpeningOut]:
        async with svc.db.read() as session:
            found = await admin.page(session, Opening, cursor, limit)
        items = [s.OpeningOut.model_validate(row, from_attributes=True) for row in found.rows]
        return s.Page(items=items, next_cursor=found.next_cursor)

    @get("/{opening_id:str}", operation_id="get_opening", summary="Read an extra opening")
    async def read(self, svc: Collaborators, opening_id: str = Parameter(max_length=64)) -> s.OpeningOut:
        async with svc.db.read() as session:
            row = await admin.get(session, Opening, opening_id, "opening")
        return s.OpeningOut.model_validate(row, from_attributes=True)

    @patch("/{opening_id:str}", operation_id="update_opening", summary="Change an extra opening")
    async def update(self, data: s.OpeningUpdate, svc: Collaborators,
                     opening_id: str = Parameter(max_length=64)) -> s.OpeningOut:
        changes = data.model_dump(exclude_unset=True)
        if changes.get("service_ids"):
            changes["service_ids"] = list(dict.fromkeys(changes["service_ids"]))
        async with svc.db.write() as session:
            row = await admin.get(session, Opening, opening_id, "opening")
            for service_id in changes.get("service_ids") or ():
                await admin.require(session, Service, service_id, "service")
            admin.apply_changes(row, changes)
            await session.flush()
            return s.OpeningOut.model_validate(row, from_attributes=True)

    @delete("/{opening_id:str}", operation_id="delete_opening", summary="Delete an extra opening", status_code=204)
    async def remove(self, svc: Collaborators, opening_id: str = Parameter(max_length=64)) -> None:
        async with svc.db.write() as session:
            await session.delete(await admin.get(session, Opening, opening_id, "opening"))
