"""The département-scale dataset, written straight into a database with Core bulk inserts.

400 staff members, 100 sites (offices and schools in school zones A/B/C, two sites in
La Réunion), three services (30 and 60 minutes, and a collective one of capacity 8), each
staff member 2-4 weekly half-day rules across sites for 8 weeks, and 20,000 appointments in
those 8 weeks. Rule occurrences come from the application's own domain code
(``scheduler.domain.rules.occurrences`` with the French holiday calendar), so appointments
fall only where the rules open; every booked block is one hold (``taken`` = its
appointments), and a staff member's blocking holds never overlap (the database guard would
refuse it). The same seed and start date give the same rows (ids included).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from scheduler.db.engine import Database
from scheduler.db.tables import (
    Appointment,
    AvailabilityRule,
    Family,
    HoldRecord,
    RuleService,
    Service,
    Site,
    Staff,
)
from scheduler.domain import rules as rules_mod
from scheduler.domain.calendars import holiday_calendar_key
from scheduler.french_calendar import FrenchHolidayCalendar

SEED = 20261124
STAFF = 400
SITES = 100
OVERSEAS_SITES = 2  # Indian/Reunion
OVERSEAS_STAFF = 6
OFFICES = 30  # metropolitan offices; the rest are schools
APPOINTMENTS = 20_000
WEEKS = 8
HALF_DAYS = {"am": (time(8, 30), time(12, 0)), "pm": (time(13, 30), time(17, 0))}
STEP = timedelta(minutes=30)
COLLECTIVE_STAFF = 40  # staff members with one rule that also offers the collective service
CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class ScaleIds:
    """What the measurements need to know about the seeded département."""

    service_30: str
    service_60: str
    service_collective: str
    busy_staff_id: str
    busy_appointments: int
    first: date
    last: date
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Rows:
    sites: list[dict[str, Any]] = field(default_factory=list)
    staff: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    rule_services: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    families: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)


def build_rows(first: date, now: datetime, seed: int = SEED) -> tuple[_Rows, ScaleIds]:
    """Every row of the département, in memory (no I/O)."""
    rng = random.Random(seed)
    ids = random.Random(seed + 1)  # ids from their own stream, so the same seed gives the same rows

    def new_id() -> str:
        return f"{ids.getrandbits(128):032x}"

    rows = _Rows()
    last = first + timedelta(weeks=WEEKS) - timedelta(days=1)
    s30, s60, scol = new_id(), new_id(), new_id()
    for sid, name, minutes, capacity in ((s30, "Entretien 30 min", 30, 1), (s60, "Bilan 60 min", 60, 1),
                                        (scol, "Atelier collectif", 60, 8)):
        rows.services.append(
            {
                "id": sid,
                "name": f"scale {name}",
                "duration_minutes": minutes,
                "capacity": capacity,
                "min_notice_minutes": 0,
                "horizon_days": 120,
                "created_at": now,
            }
        )
    durations = {s30: 30, s60: 60, scol: 60}
    capacities = {s30: 1, s60: 1, scol: 8}

    offices: list[str] = []
    schools: list[str] = []
    overseas: list[tuple[str, str]] = []
    for index in range(SITES):
        sid = new_id()
        if index < OVERSEAS_SITES:
            kind, tz, school_zone = ("office" if index == 0 else "school"), "Indian/Reunion", None
            overseas.append((sid, kind))
        else:
            kind = "office" if index < OVERSEAS_SITES + OFFICES else "school"
            tz, school_zone = "Europe/Paris", "ABC"[index % 3]
            (offices if kind == "office" else schools).append(sid)
        rows.sites.append(
            {
                "id": sid,
                "name": f"scale {kind} {index:03d}",
                "kind": kind,
                "address": f"{index} rue du Département",
                "timezone": tz,
                "school_zone": school_zone,
                "public_label": f"{kind.title()} {index:03d}",
                "holiday_region": None,
                "created_at": now,
            }
        )
    site_info = {row["id"]: row for row in rows.sites}

    weekly: list[rules_mod.WeeklyRule] = []
    collective_staff = set(rng.sample(range(OVERSEAS_STAFF, STAFF), COLLECTIVE_STAFF))
    for index in range(STAFF):
        staff_id = new_id()
        rows.staff.append(
            {
                "id": staff_id,
                "name": f"scale staff {index:03d}",
                "role": ("psychologist", "social_worker", "coordinator")[index % 3],
                "created_at": now,
            }
        )
        home = overseas[0][0] if index < OVERSEAS_STAFF else offices[index % len(offices)]
        slots = rng.sample(
            [(weekday, half) for weekday in range(1, 6) for half in HALF_DAYS], rng.randint(2, 4)
        )
        for number, (weekday, half) in enumerate(sorted(slots)):
            if index < OVERSEAS_STAFF:
                site_id = overseas[number % 2][0]
            else:
                site_id = home if rng.random() < 0.5 else rng.choice(schools)
            site = site_info[site_id]
            school = site["kind"] == "school"
            services = [s30] + ([s60] if rng.random() < 0.5 else [])
            if number == 0 and index in collective_staff:
                services.append(scol)
            start, end = HALF_DAYS[half]
            rule_id = new_id()
            rows.rules.append(
                {
                    "id": rule_id,
                    "staff_id": staff_id,
                    "interpreter_id": None,
                    "site_id": site_id,
                    "weekday": weekday,
                    "start_time": start,
                    "end_time": end,
                    "valid_from": first,
                    "valid_until": last,
                    "follows_school_calendar": school,
                    "created_at": now,
                }
            )
            rows.rule_services += [{"rule_id": rule_id, "service_id": service} for service in services]
            weekly.append(
                rules_mod.WeeklyRule(
                    id=rule_id,
                    resource_id=staff_id,
                    site_id=site_id,
                    zone=ZoneInfo(site["timezone"]),
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    valid_from=first,
                    valid_until=last,
                    service_ids=frozenset(services),
                    follows_school_calendar=school,
                    holiday_calendar=holiday_calendar_key(None, site["timezone"]),
                    school_zone=site["school_zone"],
                )
            )

    closed = FrenchHolidayCalendar().closed_days(
        {rule.holiday_calendar for rule in weekly},
        {rule.school_zone for rule in weekly if rule.follows_school_calendar and rule.school_zone},
        first,
        last,
    )
    openings = rules_mod.occurrences(weekly, first, last, closed)

    # Candidate blocks: walk each opening in 30-minute steps, booking about half of the time.
    candidates: list[
        tuple[str, str, str, datetime, datetime, int]
    ] = []  # staff, site, service, start, end, n
    for opening in openings:
        moment, closing = opening.interval.start.astimezone(UTC), opening.interval.end.astimezone(UTC)
        while moment + STEP <= closing:
            if rng.random() >= 0.5:
                moment += STEP
                continue
            offered = sorted(opening.service_ids)
            service = rng.choice(offered)
            length = timedelta(minutes=durations[service])
            if moment + length > closing:
                service, length = s30, STEP
            taken = rng.randint(2, 8) if capacities[service] > 1 else 1
            candidates.append(
                (opening.resource_id, opening.site_id or "", service, moment, moment + length, taken)
            )
            moment += length
    rng.shuffle(candidates)
    booked, total = [], 0
    for candidate in candidates:
        if total >= APPOINTMENTS:
            break
        taken = min(candidate[5], APPOINTMENTS - total)
        booked.append((*candidate[:5], taken))
        total += taken
    if total < APPOINTMENTS:
        raise RuntimeError(f"only room for {total} appointments in the rules")

    per_staff: Counter[str] = Counter()
    for staff_id, site_id, service, begins, ends, taken in sorted(booked, key=lambda c: (c[0], c[3])):
        hold_id = new_id()
        rows.holds.append(
            {
                "id": hold_id,
                "resource_id": staff_id,
                "resource_kind": "staff",
                "service_id": service,
                "starts_at": begins,
                "ends_at": ends,
                "capacity": capacities[service],
                "taken": taken,
            }
        )
        for _ in range(taken):
            family_id, appointment_id = new_id(), new_id()
            number = len(rows.families)
            rows.families.append(
                {
                    "id": family_id,
                    "reference": f"DEP-{number:06d}",
                    "phone": f"+3361{number:07d}",
                    "language": "fr",
                    "sms_consent": number % 4 != 0,
                    "last_appointment_at": begins,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows.appointments.append(
                {
                    "id": appointment_id,
                    "status": "booked",
                    "service_id": service,
                    "staff_id": staff_id,
                    "site_id": site_id,
                    "family_id": family_id,
                    "starts_at": begins,
                    "ends_at": ends,
                    "staff_hold_id": hold_id,
                    "sequence": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            per_staff[staff_id] += 1
    _check_no_overlap(rows.holds)

    metropolitan = {row["id"] for row in rows.staff[OVERSEAS_STAFF:]}
    rule_count = Counter(rule["staff_id"] for rule in rows.rules)
    busy = max(metropolitan, key=lambda staff_id: (rule_count[staff_id], per_staff[staff_id], staff_id))
    counts = {"sites": len(rows.sites), "offices": len(offices) + 1, "schools": len(schools) + 1,
              "overseas_sites": len(overseas), "staff": len(rows.staff), "rules": len(rows.rules),
              "openings": len(openings), "holds": len(rows.holds), "appointments": len(rows.appointments),
              "collective_holds": sum(1 for hold in rows.holds if hold["capacity"] > 1)}
    return rows, ScaleIds(s30, s60, scol, busy, per_staff[busy], first, last, counts)


def _check_no_overlap(holds: list[dict[str, Any]]) -> None:
    """What the database guard enforces: one staff member's blocking holds never overlap."""
    by_staff: dict[str, list[tuple[datetime, datetime]]] = {}
    for hold in holds:
        by_staff.setdefault(hold["resource_id"], []).append((hold["starts_at"], hold["ends_at"]))
    for spans in by_staff.values():
        spans.sort()
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise RuntimeError("generated overlapping holds")


async def _insert(url: str, rows: _Rows) -> None:
    def table(model: Any) -> Any:
        return model.__table__

    db = Database.from_url(url)
    try:
        async with db.write() as session:
            small: tuple[tuple[Any, list[dict[str, Any]]], ...] = (
                (Site, rows.sites), (Staff, rows.staff), (Service, rows.services),
                (AvailabilityRule, rows.rules), (RuleService, rows.rule_services))
            for model, values in small:
                await session.execute(insert(table(model)), values)
        bulk: tuple[tuple[Any, list[dict[str, Any]]], ...] = (
            (HoldRecord, rows.holds), (Family, rows.families), (Appointment, rows.appointments))
        for model, values in bulk:
            for offset in range(0, len(values), CHUNK):
                async with db.write() as session:
                    await session.execute(insert(table(model)), values[offset:offset + CHUNK])
    finally:
        await db.dispose()


def seed_departement(url: str, first: date, seed: int = SEED) -> ScaleIds:
    """Generate the département and insert it into the database at ``url``."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows, ids = build_rows(first, now, seed)
    asyncio.run(_insert(url, rows))
    return ids
