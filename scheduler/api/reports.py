"""Report pages for funders: a link to a read-only page of a period's figures."""

from __future__ import annotations

from litestar import Controller, post

from scheduler.api.auth import requires
from scheduler.api.common import Services
from scheduler.api.report_schemas import ReportCreate, ReportLinkOut
from scheduler.services import reports


class ReportController(Controller):
    """Administrators make a link to a report page, valid 30 days."""

    path = "/v1/reports"
    tags = ("figures",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_report", summary="A link to a report page", status_code=201)
    async def create(self, data: ReportCreate, svc: Services) -> ReportLinkOut:
        """The page needs no other credential than its link: share it with care."""
        created = await reports.create_link(svc.db, data.from_, data.to, data.site_ids,
                                            svc.settings.public_url, svc.clock.now())
        return ReportLinkOut(url=created.url, expires_at=created.expires_at)
