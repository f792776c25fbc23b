"""Which limited entities a statement names: a site-limited session adds the criteria of those only,
so one missed here would escape the limit (the matrix test in tests/api/test_site_access.py proves
it end to end; these cases pin the shapes it may not meet)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import col

from scheduler.db.access import limited_entities
from scheduler.db.outbox import OutboxMessage
from scheduler.db.tables import Appointment, Family, Pathway, Service, Site


def _cases() -> list[tuple[str, Any, set[type]]]:
    appointments = select(col(Appointment.id))
    other = aliased(Appointment)
    return [
        ("join", select(col(Family.reference)).join(
            Appointment, col(Appointment.family_id) == col(Family.id)), {Family, Appointment}),
        ("in_subquery", select(Family).where(col(Family.id).in_(select(col(OutboxMessage.appointment_id)))),
         {Family, OutboxMessage}),
        ("exists", select(col(Service.id)).where(
            exists().where(col(Appointment.service_id) == col(Service.id))), {Appointment}),
        ("count_from", select(func.count()).select_from(Pathway), {Pathway}),
        ("subquery", select(appointments.subquery().c.id), {Appointment}),
        ("cte", select(appointments.cte().c.id), {Appointment}),
        ("union", select(col(Family.id)).union_all(select(col(Site.id))), {Family, Site}),
        ("update", update(Pathway).values(status="closed"), {Pathway}),
        ("delete", delete(Site).where(col(Site.id) == "s"), {Site}),
        ("alias", select(other.id), {Appointment}),
        ("not_limited", select(Service), set()),
    ]


@pytest.mark.parametrize(("statement", "expected"), [case[1:] for case in _cases()],
                         ids=[case[0] for case in _cases()])
def test_every_limited_entity_a_statement_names_is_found(statement: Any, expected: set[type]) -> None:
    assert limited_entities(statement) == expected


def test_statements_of_another_shape_are_not_taken_for_a_known_one() -> None:
    assert limited_entities(select(Family).where(col(Family.id) == "f")) == {Family}
    widened = select(Family).where(col(Family.id).in_(select(col(Appointment.family_id))))
    assert limited_entities(widened) == {Family, Appointment}
    assert limited_entities(select(Family).where(col(Family.id) == "g")) == {Family}
