"""Care pathways: book a family's course of sessions as one, read, list, add a session, close."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from notifications.masking import mask_phone
from scheduler.api import care_pathway_schemas as cs
from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.domain.errors import InvalidInput
from scheduler.phones import normalize_phone
from scheduler.services import booking, care_pathways
from scheduler.services.care_pathways import PathwayRequest, PathwayView, SessionWanted

Key = Request[Principal, Any, Any]
READ = (requires("appointments:read"),)
WRITE = (requires("appointments:write"),)


def pathway_out(view: PathwayView) -> cs.PathwayOut:
    """A pathway, its times in the site's zone."""
    return cs.PathwayOut.model_validate(view.as_json(times_as_text=False))


def pathway_listed(view: PathwayView) -> cs.PathwayOut:
    """A pathway as a list shows it: the family's phone masked."""
    shown = view.as_json(times_as_text=False)
    phone = shown["family"]["phone"]
    if phone is not None:
        shown["family"]["phone"] = mask_phone(phone)
    return cs.PathwayOut.model_validate(shown)


def pathway_request(data: cs.PathwayCreate) -> PathwayRequest:
    """The service-layer request, with the phone normalised to E.164."""
    family = data.family
    phone = normalize_phone(family.phone) if family.phone else None
    return PathwayRequest(
        service_id=data.service_id,
        family=booking.FamilyData(family.reference, phone, family.language, family.sms_consent),
        sessions=[SessionWanted(item.start, item.attendees) for item in data.sessions],
        staff_id=data.staff_id,
        site_id=data.site_id,
        interpreter_language=data.interpreter_language,
        note=data.note,
    )


class PathwayController(Controller):
    """Care pathways: changed with scope ``appointments:write``, read with ``appointments:read``."""

    path = "/v1/pathways"
    tags = ("pathways",)

    @post(
        "/",
        operation_id="book_pathway",
        summary="Book a care pathway (every session or none)",
        status_code=201,
        guards=WRITE,
    )
    async def book(
        self,
        request: Key,
        data: cs.PathwayCreate,
        svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> cs.PathwayOut:
        """Books every session, in one transaction, or none: a refused session answers 409
        (`slot-unavailable`, `family-busy` or `interpreter-unavailable`) with `failed_session` (its
        index) and `next_available` (its next free start with the same staff member, or null)."""
        wanted = pathway_request(data)
        request_key = idempotent(request, data, idempotency_key)
        return created(await care_pathways.book(svc, request.user, wanted, request_key, pathway_out))  # type: ignore[return-value]

    @get("/{pathway_id:str}", operation_id="get_pathway", summary="Read a care pathway", guards=READ)
    async def read(self, svc: Services, pathway_id: str = Parameter(max_length=64)) -> cs.PathwayOut:
        return pathway_out(await care_pathways.read(svc, pathway_id))

    @get("/", operation_id="list_pathways", summary="List care pathways", guards=READ)
    async def list_pathways(
        self,
        request: Request[Any, Any, Any],
        svc: Services,
        family_reference: Annotated[str | None, Parameter(max_length=64)] = None,
        status: cs.PathwayStatus | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> s.Page[cs.PathwayOut]:
        """Oldest first; `status` is `active`, `closed` or `completed`."""
        if status is None and "status" in request.query_params:
            raise InvalidInput("`status` must be one of active, closed, completed.")
        found = await care_pathways.page(svc, family_reference, status, cursor, limit)
        return s.Page(items=[pathway_listed(item) for item in found.rows], next_cursor=found.next_cursor)

    @post(
        "/{pathway_id:str}/sessions",
        operation_id="add_pathway_session",
        summary="Add a session",
        status_code=201,
        guards=WRITE,
    )
    async def add_session(
        self,
        request: Key,
        data: cs.SessionIn,
        svc: Services,
        idempotency_key: IdempotencyKey = None,
        pathway_id: str = Parameter(max_length=64),
    ) -> cs.PathwayOut:
        """One more session with the pathway's staff member at its site (its own confirmation is
        texted); 409 `pathway-closed` when the pathway is closed or completed."""
        request_key = idempotent(request, data, idempotency_key)
        wanted = SessionWanted(data.start, data.attendees)
        return created(
            await care_pathways.add_session(  # type: ignore[return-value]
                svc, request.user, pathway_id, wanted, request_key, pathway_out
            )
        )

    @post(
        "/{pathway_id:str}/close",
        operation_id="close_pathway",
        summary="Close a care pathway",
        status_code=200,
        guards=WRITE,
    )
    async def close(
        self,
        request: Key,
        svc: Services,
        data: cs.PathwayCloseIn | None = None,
        pathway_id: str = Parameter(max_length=64),
    ) -> cs.PathwayOut:
        """Cancels the sessions still to come (one text tells the family of all of them); status `closed`.
        Closing twice changes nothing."""
        reason = data.reason if data else None
        return pathway_out(await care_pathways.close(svc, request.user, pathway_id, reason))
