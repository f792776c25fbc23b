"""GET /health: 200 when the database answers and the dispatcher runs, 503 otherwise."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from scheduler import __version__
from scheduler.api import schemas as s
from scheduler.api.common import Services
from scheduler.services.operations import database_answers


class HealthController(Controller):
    """Liveness and readiness in one."""

    path = "/health"
    tags = ("operations",)

    @get("/", operation_id="health", summary="Service health", exclude_from_auth=True, cache=False)
    async def health(self, request: Request[Any, Any, Any], svc: Services) -> Response[s.HealthOut]:
        database = await database_answers(svc)
        dispatcher = request.app.state.jobs.running
        ok = database and dispatcher
        body = s.HealthOut(
            status="ok" if ok else "degraded",
            database="ok" if database else "unreachable",
            dispatcher="running" if dispatcher else "stopped",
            version=__version__,
        )
        return Response(body, status_code=200 if ok else 503)

    @get("/live", operation_id="liveness", summary="Process liveness (no database access)",
         exclude_from_auth=True, cache=False)
    async def live(self) -> dict[str, str]:
        """200 ``{"status": "ok"}`` while the process serves HTTP; also the benchmarks' HTTP ceiling."""
        return {"status": "ok"}

