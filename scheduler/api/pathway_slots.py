"""GET /v1/pathway-slots: series of free slots for a care pathway (scope ``slots:read``)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from scheduler.api import pathway_schemas as ps
from scheduler.api import schemas as s
from scheduler.api.auth import requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.api.inputs import ApiDate
from scheduler.languages import normalize_language
from scheduler.services.pathway_slots import PathwayQuery, find_pathway_page


class PathwaySlotController(Controller):
    """Series of free slots, for the sessions of a care pathway."""

    path = "/v1/pathway-slots"
    tags = ("slots",)
    guards = (requires("slots:read"),)

    @get("/", operation_id="list_pathway_slots", summary="Find series of free slots for a care pathway")
    async def list_series(
        self,
        svc: Services,
        service_id: Annotated[str, Parameter(max_length=64)],
        sessions: Annotated[int, Parameter(ge=ps.MIN_SESSIONS, le=ps.MAX_SESSIONS,
                                           description="Sessions in each series (2 to 6).")],
        every_days: Annotated[int, Parameter(ge=1, le=ps.MAX_EVERY_DAYS,
                                             description="Days from one session to the next (1 to 60).")],
        from_: Annotated[ApiDate, Parameter(query="from", description="First date of a first session.")],
        to: Annotated[ApiDate, Parameter(description="Last local date of a first session, at most 92 days "
                                                  "after `from`; the other sessions may fall after it.")],
        staff_id: str | None = Parameter(default=None, max_length=64),
        site_id: str | None = Parameter(default=None, max_length=64),
        interpreter_language: str | None = Parameter(default=None, max_length=3),
        tolerance_days: Annotated[int, Parameter(ge=0, le=ps.MAX_TOLERANCE_DAYS, description=(
            "Days a session may move from its date, either way (0 to 3, fewer than `every_days`)."))] = 0,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[ps.PathwaySeriesOut]:
        """Series of free slots with one staff member at one site, each session at the first one's local
        time, `every_days` (± `tolerance_days`) after the previous; for each free slot that opens one,
        the earliest such series. Ordered by first start, then staff member, then site."""
        first, last = ps.first_days(from_, to)
        language = normalize_language(interpreter_language) if interpreter_language is not None else None
        query = PathwayQuery(service_id, first, last, ps.spacing(sessions, every_days, tolerance_days),
                             staff_id, site_id, language)
        page = await find_pathway_page(svc.db, svc.calendar, svc.clock.now(), query, cursor, limit)
        return s.Page(items=[ps.PathwaySeriesOut.of(series) for series in page.series],
                      next_cursor=page.next_cursor)
