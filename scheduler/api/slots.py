"""GET /v1/slots: free slots of a service (scope ``slots:read``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.api.inputs import ApiDate
from scheduler.api.slot_cache import Counters, SlotPageCache
from scheduler.domain.errors import InvalidInput
from scheduler.domain.slots import Position
from scheduler.languages import normalize_language
from scheduler.services.availability import SlotPage, SlotQuery
from scheduler.services.paging import after_instant, encode_cursor
from scheduler.services.slot_search import counted_slot_page, current_counters, slot_page

MAX_RANGE_DAYS = 92


class SlotController(Controller):
    """Free slots."""

    path = "/v1/slots"
    tags = ("slots",)
    guards = (requires("slots:read"),)

    @get("/", operation_id="list_free_slots", summary="Find free slots of a service")
    async def list_slots(
        self,
        request: Request[Any, Any, Any],
        svc: Services,
        service_id: Annotated[str, Parameter(max_length=64)],
        from_: Annotated[ApiDate, Parameter(query="from", description="First local date (YYYY-MM-DD).")],
        to: Annotated[ApiDate, Parameter(description="Last local date, at most 92 days after `from`.")],
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
        after: Position | None = after_instant(cursor)

        async def compute() -> tuple[bytes, Counters]:
            page, seen = await counted_slot_page(svc, query, after, limit)
            return page_json(page), seen

        async def current(keys: Sequence[str]) -> Counters:
            return await current_counters(svc, keys)

        if cache.ttl <= 0:  # no page cache: no counters to keep
            body = page_json(await slot_page(svc, query, after, limit))
        else:
            body = await cache.get_or_compute((query, limit, cursor, svc.db.access), compute, current)
        return Response(body, media_type=MediaType.JSON)  # type: ignore[return-value]


def svc_cache(request: Request[Any, Any, Any]) -> SlotPageCache:
    """This application's slot page cache."""
    cache: SlotPageCache = request.app.state.slot_pages
    return cache


def page_json(page: SlotPage) -> bytes:
    """The page as ``Page[SlotOut]`` would serialise it, without one pydantic model per slot.

    A page holds up to 500 slots; building and dumping a model for each was a tenth of a
    search's time. msgspec writes the times as pydantic does (a zero UTC offset as "Z", any
    other as "+HH:MM"), in C. ``test_slot_page_json_is_what_pydantic_writes`` keeps the two identical.
    """
    last = page.slots[-1] if page.more else None
    next_cursor = encode_cursor(last.interval.start.isoformat(), last.resource_id) if last else None
    items = [{"start": slot.start, "end": slot.end, "service_id": slot.service_id,
              "staff_id": slot.resource_id, "site_id": slot.site_id, "remaining": slot.remaining}
             for slot in page.slots]
    return msgspec.json.encode({"items": items, "next_cursor": next_cursor})
