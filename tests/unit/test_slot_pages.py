"""Pages of free slots: following the cursor gives exactly the one big list, in order, and the JSON of a page.

The engine's paging (``free_slots(after=, limit=)``) is checked on the same random weeks as the
slot properties; the service's paging, on a real database, in tests/contract/test_slot_pages_service.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.api import schemas as s
from scheduler.api.slots import page_json
from scheduler.domain.rules import occurrences
from scheduler.domain.slots import ServiceSpec, Slot, free_slots
from scheduler.services import paging
from scheduler.services.availability import SlotPage
from tests.unit.test_slots_properties import PROPERTY, Week, weeks


def position(slot: Slot) -> tuple[datetime, str]:
    return slot.interval.start, slot.resource_id


def engine_pages(week: Week, limit: int) -> list[list[Slot]]:
    """Every page of ``limit`` slots, each one resuming after the last slot of the one before."""
    openings = occurrences(week.rules, week.first, week.last, week.closed)
    pages: list[list[Slot]] = []
    after = None
    while True:
        page = free_slots(openings, week.holds, week.busy, week.spec, week.window, week.now, after=after,
                          limit=limit)
        if not page:
            return pages
        pages.append(page)
        after = position(page[-1])


@PROPERTY
@given(weeks(), st.integers(1, 7))
def test_engine_pages_concatenate_to_the_whole_list(week: Week, limit: int) -> None:
    openings = occurrences(week.rules, week.first, week.last, week.closed)
    whole = free_slots(openings, week.holds, week.busy, week.spec, week.window, week.now)

    pages = engine_pages(week, limit)

    assert [slot for page in pages for slot in page] == whole  # in order, no duplicate, nothing skipped
    assert all(len(page) == limit for page in pages[:-1])


# ------------------------------------------------------------------ JSON


HALF_HOUR = ServiceSpec(id="service", duration=timedelta(minutes=30), capacity=1, min_notice=timedelta(0),
                        horizon=timedelta(days=92))


def slot(start: datetime, zone: str, site_id: str | None = "site") -> Slot:
    local = start.astimezone(ZoneInfo(zone))
    return Slot(local, local + timedelta(minutes=30), "service", "staff", site_id, 1)


@pytest.mark.parametrize("more", [False, True])
@pytest.mark.parametrize("zone", ["Europe/Paris", "Indian/Reunion", "America/Cayenne", "UTC", "Europe/London",
                                  "Asia/Kolkata"])
def test_slot_page_json_is_what_pydantic_writes(zone: str, more: bool) -> None:
    slots: Sequence[Slot] = [slot(datetime(2026, 12, 2, 9, 0, tzinfo=UTC), zone),
                             slot(datetime(2026, 7, 1, 9, 0, 5, 120, tzinfo=UTC), zone, site_id=None)]
    page = SlotPage(list(slots), more, HALF_HOUR)
    last = slots[-1]
    cursor = paging.encode_cursor(last.interval.start.isoformat(), last.resource_id) if more else None
    items = [s.SlotOut(start=one.start, end=one.end, service_id=one.service_id, staff_id=one.resource_id,
                       site_id=one.site_id, remaining=one.remaining) for one in slots]

    assert page_json(page) == s.Page[s.SlotOut](items=items, next_cursor=cursor).model_dump_json().encode()


def test_an_empty_page_is_an_empty_list() -> None:
    assert page_json(SlotPage([], False, HALF_HOUR)) == b'{"items":[],"next_cursor":null}'

