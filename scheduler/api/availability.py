"""Admin: weekly availability rules, absences and extra openings."""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.closures import affected_out
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.services import catalogue, interruptions, weekly_rules
from scheduler.services.interruptions import ABSENCE
from scheduler.services.plan_changes import WithAffected
from scheduler.services.weekly_rules import RuleView


def rule_out(found: RuleView) -> s.RuleOut:
    """The API view of a rule."""
    rule = found.rule
    return s.RuleOut(
        id=rule.id,
        staff_id=rule.staff_id,
        interpreter_id=rule.interpreter_id,
        site_id=rule.site_id,
        service_ids=found.service_ids,
        weekday=rule.weekday,
        start_time=_hhmm(rule.start_time),
        end_time=_hhmm(rule.end_time),
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
        follows_school_calendar=rule.follows_school_calendar,
        every_weeks=rule.every_weeks,
    )


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def absence_out(found: WithAffected) -> s.AbsenceOut:
    """The API view of an absence, with the appointments it falls on."""
    row = found.row
    return s.AbsenceOut(id=row.id, staff_id=row.staff_id, interpreter_id=row.interpreter_id, start=row.start,
                        end=row.end, reason=row.reason, affected_appointments=affected_out(found.affected))


def opening_out(row: Any) -> s.OpeningOut:
    """The API view of an extra opening."""
    return s.OpeningOut.model_validate(row, from_attributes=True)


class RuleController(Controller):
    """Weekly availability rules."""

    path = "/v1/availability-rules"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_availability_rule", summary="Create a weekly rule", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.RuleCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.RuleOut:
        start, end = data.times()
        fields = {**data.model_dump(exclude={"service_ids"}), "start_time": start, "end_time": end}
        answer = await weekly_rules.create(
            svc, fields, data.service_ids, idempotent(request, data, idempotency_key), rule_out
        )
        return created(answer)  # type: ignore[return-value]

    @get("/", operation_id="list_availability_rules", summary="List weekly rules")
    async def list_rules(
        self, svc: Services, limit: Limit = 100, cursor: Cursor = None,
        staff_id: str | None = Parameter(default=None, max_length=64),
        interpreter_id: str | None = Parameter(default=None, max_length=64),
    ) -> s.Page[s.RuleOut]:
        found = await weekly_rules.page(svc, cursor, limit, staff_id, interpreter_id)
        return s.Page(items=[rule_out(rule) for rule in found.rows], next_cursor=found.next_cursor)

    @get("/{rule_id:str}", operation_id="get_availability_rule", summary="Read a weekly rule")
    async def read(self, svc: Services, rule_id: str = Parameter(max_length=64)) -> s.RuleOut:
        return rule_out(await weekly_rules.read(svc, rule_id))

    @patch("/{rule_id:str}", operation_id="update_availability_rule", summary="End or change a weekly rule")
    async def update(
        self, data: s.RuleUpdate, svc: Services, rule_id: str = Parameter(max_length=64)
    ) -> s.RuleOut:
        return rule_out(await weekly_rules.update(svc, rule_id, data.model_dump(exclude_unset=True)))

    @delete("/{rule_id:str}", operation_id="delete_availability_rule", summary="Delete a weekly rule",
            status_code=204)
    async def remove(self, svc: Services, rule_id: str = Parameter(max_length=64)) -> None:
        await weekly_rules.delete(svc, rule_id)


class AbsenceController(Controller):
    """Absences of staff members."""

    path = "/v1/absences"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_absence", summary="Record an absence", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.AbsenceCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.AbsenceOut:
        request_key = idempotent(request, data, idempotency_key)
        fields = data.model_dump(exclude={"cancel_affected"})
        answer = await interruptions.create(
            svc, ABSENCE, fields, data.cancel_affected, request_key, absence_out
        )
        return created(answer)  # type: ignore[return-value]

    @get("/", operation_id="list_absences", summary="List absences")
    async def list_absences(
        self, svc: Services, limit: Limit = 100, cursor: Cursor = None,
        staff_id: str | None = Parameter(default=None, max_length=64),
        interpreter_id: str | None = Parameter(default=None, max_length=64),
    ) -> s.Page[s.AbsenceOut]:
        found = await interruptions.page(
            svc, ABSENCE, cursor, limit, staff_id=staff_id, interpreter_id=interpreter_id
        )
        return s.Page(items=[absence_out(row) for row in found.rows], next_cursor=found.next_cursor)

    @get("/{absence_id:str}", operation_id="get_absence", summary="Read an absence")
    async def read(self, svc: Services, absence_id: str = Parameter(max_length=64)) -> s.AbsenceOut:
        return absence_out(await interruptions.read(svc, ABSENCE, absence_id))

    @patch("/{absence_id:str}", operation_id="update_absence", summary="Change an absence")
    async def update(self, data: s.AbsenceUpdate, svc: Services,
                     absence_id: str = Parameter(max_length=64)) -> s.AbsenceOut:
        changes = data.model_dump(exclude_unset=True, exclude={"cancel_affected"})
        return absence_out(
            await interruptions.update(svc, ABSENCE, absence_id, changes, data.cancel_affected)
        )

    @delete("/{absence_id:str}", operation_id="delete_absence", summary="Delete an absence", status_code=204)
    async def remove(self, svc: Services, absence_id: str = Parameter(max_length=64)) -> None:
        await catalogue.delete(svc, "absence", absence_id)


class OpeningController(Controller):
    """One-off extra openings."""

    path = "/v1/openings"
    tags = ("availability",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_opening", summary="Add an extra opening", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.OpeningCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.OpeningOut:
        request_key = idempotent(request, data, idempotency_key)
        return created(await catalogue.create(svc, "opening", data.model_dump(), request_key, opening_out))  # type: ignore[return-value]

    @get("/", operation_id="list_openings", summary="List extra openings")
    async def list_openings(
        self, svc: Services, limit: Limit = 100, cursor: Cursor = None
    ) -> s.Page[s.OpeningOut]:
        found = await catalogue.page(svc, "opening", cursor, limit)
        return s.Page(items=[opening_out(row) for row in found.rows], next_cursor=found.next_cursor)

    @get("/{opening_id:str}", operation_id="get_opening", summary="Read an extra opening")
    async def read(self, svc: Services, opening_id: str = Parameter(max_length=64)) -> s.OpeningOut:
        return opening_out(await catalogue.read(svc, "opening", opening_id))

    @patch("/{opening_id:str}", operation_id="update_opening", summary="Change an extra opening")
    async def update(self, data: s.OpeningUpdate, svc: Services,
                     opening_id: str = Parameter(max_length=64)) -> s.OpeningOut:
        return opening_out(
            await catalogue.update(svc, "opening", opening_id, data.model_dump(exclude_unset=True))
        )

    @delete(
        "/{opening_id:str}", operation_id="delete_opening", summary="Delete an extra opening", status_code=204
    )
    async def remove(self, svc: Services, opening_id: str = Parameter(max_length=64)) -> None:
        await catalogue.delete(svc, "opening", opening_id)
