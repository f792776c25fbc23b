"""Appointment figures per site, month, service...: JSON, or CSV for a spreadsheet."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.api.inputs import ApiDate
from scheduler.api.report_schemas import AppointmentStatsOut
from scheduler.api.stats_csv import MEDIA_TYPE, filename, stats_csv, wants_csv
from scheduler.services import appointment_stats as service

GROUP_BY_HELP = "Comma-separated, any of: " + ", ".join(service.GROUPS) + "."


class AppointmentStatsController(Controller):
    """What programmes report to their funders: counts only, never a family."""

    path = "/v1/stats"
    tags = ("figures",)
    guards = (requires("admin"),)

    @get("/appointments", operation_id="appointment_stats", summary="Appointment figures, grouped",
         media_type="application/json",
         responses={200: ResponseSpec(AppointmentStatsOut, description="Figures per group, and in total.")})
    async def appointments(
        self, request: Request[Any, Any, Any], svc: Services,
        from_: Annotated[ApiDate, Parameter(query="from", description="First local date, at each site.")],
        to: Annotated[ApiDate, Parameter(description="Last local date (included; at most 3 years on).")],
        group_by: Annotated[str | None, Parameter(max_length=200, description=GROUP_BY_HELP)] = None,
    ) -> Response[Any]:
        """JSON by default; with `Accept: text/csv`, the rows as CSV (UTF-8 with BOM, `;`)."""
        query = service.StatsRequest(from_, to, service.parse_group_by(group_by))
        stats = await service.appointment_stats(svc.db, query)
        if wants_csv(request.headers.get("accept")):
            disposition = f'attachment; filename="{filename(stats)}"'
            return Response(stats_csv(stats), media_type=MEDIA_TYPE,
                            headers={"Content-Disposition": disposition})
        body = AppointmentStatsOut.model_validate({"from": from_, "to": to, "group_by": list(query.group_by),
                                                   "rows": stats.rows, "totals": stats.totals})
        return Response(body.model_dump(mode="json", by_alias=True))
