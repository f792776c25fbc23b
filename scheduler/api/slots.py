"""GET /v1/slots: free slots of a service (scope ``slots:read``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.api.slot_cache import SlotPageCache
from scheduler.api.views import slot_out
from scheduler.domain.errors import InvalidInput
from scheduler.domain.slots import Slot
from scheduler.identity import normalize_language
from scheduler.services import admin
from scheduler.services.availability import SlotQuery, find_slots

MAX_RANGE_DAYS = 92


class SlotController(Controller):
    """Free slots."""

    path = "/v1/slots"
    tags = ["slots"]
    guards = [requires("slots:read")]

    @get("/", operation_id="list_free_slots", summary="Find free slots of a service")
    async def list_slots(
        self,
        request: Request[Any, Any, Any],
        svc: Services,
        service_id: str = Parameter(max_length=64),
        from_: date = Parameter(query="from", description="First local date (YYYY-MM-DD)."),
        to: date = Parameter(description="Last local date, at most 92 days after `from`."),
        staff_id: str | None = Parameter(default=None, max_length=64),
        site_id: str | None = Parameter(default=None, max_length=64),
        interpreter_language: str | None = Parameter(default=None, max_length=3),
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[s.SlotOut]:
        """Free slots, ordered by start then staff member; at most 92 days per search."""
        if to < from_:
            raise InvalidInput("`to` is before `from`.")
        if to - from_ > timedelta(days=MAX_RANGE_DAYS):
            raise InvalidInput(f"`to` is more than {MAX_RANGE_DAYS} days after `from`.")
        language = normalize_language(interpreter_language) if interpreter_language is not None else None
        query = SlotQuery(service_id, from_, to, staff_id, site_id, language)
        cache: SlotPageCache = svc_cache(request)

        async def compute() -> bytes:
            async with svc.db.read() as session:
                slots = await find_slots(session, svc.calendar, query, svc.clock.now())
            return _page(slots, cursor, limit).model_dump_json().encode()

        body = await cache.get_or_compute((query, limit, cursor), svc.db.generation, compute)
        return Response(body, media_type=MediaType.JSON)  # type: ignore[return-value]


def svc_cache(request: Request[Any, Any, Any]) -> SlotPageCache:
    """This application's slot page cache."""
    cache: SlotPageCache = request.app.state.slot_pages
    return cache


def _page(slots: list[Slot], cursor: str | None, limit: int) -> s.Page[s.SlotOut]:
    if cursor:
        start, staff = admin.decode_cursor(cursor, 2)
        after = (admin.cursor_instant(start), staff)
        slots = [slot for slot in slots if (slot.interval.start, slot.resource_id) > after]
    chosen = slots[:limit]
    more = len(slots) > limit
    next_cursor = admin.encode_cursor(chosen[-1].interval.start.isoformat(), chosen[-1].resource_id) if more else None
    return s.Page(items=[slot_out(slot) for slot in chosen], next_cursor=next_cursor)
