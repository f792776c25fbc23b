"""Demo programmes: fill an empty database from ``config/demo/programmes.toml``, with a family on the
waiting list for a time another family holds."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.api.auth import hash_key, new_key
from scheduler.db.engine import Database
from scheduler.db.tables import (
    ApiKey,
    Appointment,
    AvailabilityRule,
    Family,
    HoldRecord,
    Interpreter,
    RuleService,
    Service,
    Site,
    Staff,
)
from scheduler.db.waitlist_tables import WaitlistEntry
from scheduler.domain.pathways import Spacing
from scheduler.ports import HolidayCalendar
from scheduler.services.booking import FamilyData
from scheduler.services.care_pathways import PathwayRequest, SessionWanted, book_in
from scheduler.services.notify import MessagePlanner
from scheduler.services.pathway_slots import PathwayQuery, find_pathway_page
from scheduler.settings import CONFIG_DIR

DEMO_FILE = CONFIG_DIR / "demo" / "programmes.toml"
HALF_DAYS = {"morning": (time(8, 30), time(11, 30)), "afternoon": (time(13, 30), time(16, 30))}


def load_demo_file(path: Path = DEMO_FILE) -> dict[str, Any]:
    """The demo description."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


async def fill_if_empty(db: Database, now: datetime, path: Path = DEMO_FILE) -> bool:
    """Insert the demo programmes unless the database already has sites; True when it did."""
    demo = load_demo_file(path)
    async with db.write() as session:
        if (await session.execute(select(func.count()).select_from(Site))).scalar_one():
            return False
        _add_places_and_people(session, demo, now)
        await session.flush()
        for rule in _rules(demo):
            _add_rule(session, rule, date.fromisoformat(demo["valid_from"]), now)
        for rule in demo.get("interpreter_rules", []):
            session.add(AvailabilityRule(
                interpreter_id=rule["interpreter"], site_id=None, weekday=rule["weekday"],
                start_time=time.fromisoformat(rule["start"]), end_time=time.fromisoformat(rule["end"]),
                valid_from=date.fromisoformat(demo["valid_from"]), follows_school_calendar=False,
                created_at=now,
            ))
        if "waiting" in demo:
            await session.flush()
            await _add_waiting_family(session, demo["waiting"], now)
    return True


DEMO_PATHWAY_FAMILY = FamilyData("PRE-2026-021", None, "fr", False)
DEMO_PATHWAY_WHO = ("parents", "child", "family")


async def book_demo_pathway(db: Database, calendar: HolidayCalendar, now: datetime) -> str | None:
    """A booked care pathway with the demo's psychologist: the parents, then the child, then both, on
    three Wednesdays from the week after next (the first free weekly series, clear of the README's
    bookings on the coming Wednesday); its id, or None when none is free.

    The demo family gave no phone: nobody is texted.
    """
    first = now.date() + timedelta(days=14)
    query = PathwayQuery("point-ecoute", first, first + timedelta(days=28), Spacing(3, 7, 0),
                         staff_id="psy-point-ecoute", site_id="ccas")
    page = await find_pathway_page(db, calendar, now, query, None, 1)
    if not page.series:
        return None
    sessions = [SessionWanted(slot.start, who) for slot, who in zip(page.series[0].slots, DEMO_PATHWAY_WHO,
                                                                      strict=True)]
    wanted = PathwayRequest("point-ecoute", DEMO_PATHWAY_FAMILY, sessions, "psy-point-ecoute", "ccas",
                            note="Parcours de démonstration")
    async with db.write() as session:
        booked = await book_in(session, calendar, MessagePlanner(None), wanted, now)
    return booked.pathway.id


async def create_demo_key(db: Database, now: datetime) -> str:
    """A fresh admin key for the demo session, printed by the CLI (demo mode only)."""
    key = new_key()
    async with db.write() as session:
        session.add(ApiKey(name="demo admin", scopes=["admin"], key_hash=hash_key(key), created_at=now))
    return key


def _add_places_and_people(session: AsyncSession, demo: dict[str, Any], now: datetime) -> None:
    for site in demo["sites"]:
        session.add(Site(**site, created_at=now))
    for school_id, label in demo["schools"]:
        session.add(Site(id=school_id, name=label, kind="school", address=None, timezone="Europe/Paris",
                         school_zone="A", public_label=label, created_at=now))
    for person in demo["staff"]:
        session.add(Staff(**person, created_at=now))
    for service in demo["services"]:
        session.add(Service(**service, created_at=now))
    for interpreter in demo.get("interpreters", []):
        session.add(Interpreter(**interpreter, created_at=now))


def _rules(demo: dict[str, Any]) -> list[dict[str, Any]]:
    rules = [dict(rule, school=False) for rule in demo["rules"]]
    for visits in demo["home_visits"]:
        for staff in visits["staff"]:
            rules.append({"staff": staff, "site": "domicile", "services": ["visite-domicile"],
                          "weekday": visits["weekday"], "start": visits["start"], "end": visits["end"],
                          "school": False})
    for staff, school, weekday, half_day in demo["permanences"]:
        start, end = HALF_DAYS[half_day]
        rules.append({"staff": staff, "site": school, "services": ["permanence-ecole"], "weekday": weekday,
                      "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "school": True})
    return rules


async def _add_waiting_family(session: AsyncSession, waiting: dict[str, Any], now: datetime) -> None:
    """A booked time next week (its hold, appointment and family) and a family waiting for it."""
    zone = ZoneInfo("Europe/Paris")
    today = now.astimezone(zone).date()
    day = today + timedelta(days=(waiting["weekday"] - today.isoweekday() - 1) % 7 + 1)
    starts = datetime.combine(day, time.fromisoformat(waiting["start"]), zone).astimezone(UTC)
    ends = starts + timedelta(minutes=waiting["minutes"])
    holder = Family(reference=waiting["holder_reference"], phone=None, language="fr", sms_consent=False,
                    created_at=now, updated_at=now)
    family = Family(reference=waiting["reference"], phone=waiting["phone"], language=waiting["language"],
                    sms_consent=True, created_at=now, updated_at=now)
    hold = HoldRecord(resource_id=waiting["staff"], resource_kind="staff", service_id=waiting["service"],
                      starts_at=starts, ends_at=ends, capacity=1, taken=1)
    session.add_all([holder, family, hold])
    await session.flush()  # the appointment and the entry refer to them
    where = {"service_id": waiting["service"], "site_id": waiting["site"], "staff_id": waiting["staff"]}
    session.add(Appointment(id=waiting["appointment_id"], **where, family_id=holder.id, starts_at=starts,
                            ends_at=ends, staff_hold_id=hold.id, created_at=now, updated_at=now))
    session.add(WaitlistEntry(**where, family_id=family.id, earliest=starts, latest=ends, arrival=1,
                              created_at=now, updated_at=now))


def _add_rule(session: AsyncSession, rule: dict[str, Any], valid_from: date, now: datetime) -> None:
    row = AvailabilityRule(
        staff_id=rule["staff"], site_id=rule["site"], weekday=rule["weekday"],
        start_time=time.fromisoformat(rule["start"]), end_time=time.fromisoformat(rule["end"]),
        valid_from=valid_from, follows_school_calendar=rule["school"], created_at=now,
    )
    session.add(row)
    for service_id in rule["services"]:
        session.add(RuleService(rule_id=row.id, service_id=service_id))
