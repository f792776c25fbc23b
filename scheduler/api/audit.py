"""The audit trail over HTTP: every answered read or change of a family's data is noted (by a
``before_send`` hook, from the route's operation), and ``GET /v1/audit`` reads the trail (scope admin).

Adopting it for a new route of an API key (pathways, the waiting list): add its operation id to
``AUDITED`` with the path parameter naming its target; a route whose path names no appointment
calls ``audit_target(request, appointment_id, family_reference)`` for each one it reached (as the
booking and the appointment list do). A route without a key (the family page, a feed, a staff
link) calls ``note(request, Access(...))`` itself once it knows what it showed or changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.types import Message, Scope
from pydantic import BaseModel

from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.api.inputs import query_instant
from scheduler.services import audit
from scheduler.services.audit import Access, AuditLog

# operation id -> (action, target kind, the path parameter naming the target)
AUDITED: dict[str, tuple[str, str, str | None]] = {
    "get_appointment": ("appointment.read", "appointment", "appointment_id"),
    "list_appointments": ("appointments.list", "appointments", None),
    "book_appointment": ("appointment.book", "appointments", None),
    "cancel_appointment": ("appointment.cancel", "appointment", "appointment_id"),
    "reschedule_appointment": ("appointment.reschedule", "appointment", "appointment_id"),
    "record_outcome": ("appointment.outcome", "appointment", "appointment_id"),
    "attach_external_interpreter": ("appointment.interpreter", "appointment", "appointment_id"),
    "revoke_family_link": ("appointment.family_link_revoked", "appointment", "appointment_id"),
    "list_appointment_messages": ("messages.read", "appointment", "appointment_id"),
    "list_appointment_replies": ("replies.read", "appointment", "appointment_id"),
    "list_replies": ("replies.list", "replies", None),
    "list_appointment_events": ("events.read", "appointment", "appointment_id"),
    "list_events": ("events.list", "events", None),
    "change_family_phone": ("family.phone_changed", "family", "reference"),
    "book_pathway": ("pathway.book", "pathways", None),
    "get_pathway": ("pathway.read", "pathway", "pathway_id"),
    "list_pathways": ("pathways.list", "pathways", None),
    "add_pathway_session": ("pathway.add_session", "pathway", "pathway_id"),
    "close_pathway": ("pathway.close", "pathway", "pathway_id"),
    "create_waitlist_entry": ("waitlist.add", "waitlist", None),
    "list_waitlist_entries": ("waitlist.list", "waitlist", None),
    "get_waitlist_entry": ("waitlist.read", "waitlist_entry", "entry_id"),
    "delete_waitlist_entry": ("waitlist.remove", "waitlist_entry", "entry_id"),
}


class AuditActorOut(BaseModel):
    """Who: an API key (or the family, a staff member, the system)."""

    kind: str
    id: str | None
    name: str | None


class AuditTargetOut(BaseModel):
    """What was read or changed."""

    kind: str
    id: str | None


class AuditEntryOut(BaseModel):
    """One read or change of a family's data."""

    at: datetime
    actor: AuditActorOut
    action: str
    target: AuditTargetOut
    ip: str | None
    family_reference: str | None = None
    appointment_id: str | None = None


class AuditPage(BaseModel):
    """A page of the audit trail, oldest first."""

    items: list[AuditEntryOut]
    next_cursor: str | None


def audit_log(state: State) -> AuditLog | None:
    """This application's audit log."""
    found = state.get("audit")
    return found if isinstance(found, AuditLog) else None


TARGET_KEY = "creneau_audit_target"


def audit_target(request: Request[Any, Any, Any], appointment_id: str, family_reference: str | None) -> None:
    """Name an appointment an audited operation reached when its path does not (a booking, each
    appointment of a list): one entry each."""
    targets = request.scope.setdefault("state", {}).setdefault(TARGET_KEY, [])
    targets.append((appointment_id, family_reference))


def note(request: Request[Any, Any, Any], access: Access) -> None:
    """Append an entry for an access a handler made itself (the family page, a feed, a staff link),
    with the client's address taken from the request."""
    log = audit_log(request.app.state)
    if log is not None:
        log.note(replace(access, ip=request.client.host if request.client else None))


async def note_access(message: Message, scope: Scope) -> None:
    """``before_send`` hook: a successful answer of an audited operation appends an entry."""
    if message["type"] != "http.response.start" or message["status"] >= 400:
        return
    handler = scope.get("route_handler")
    audited = AUDITED.get(str(getattr(handler, "operation_id", "")))
    caller = scope.get("user")
    if audited is None or not isinstance(caller, Principal):
        return
    log = audit_log(scope["app"].state)
    if log is None:
        return
    action, kind, parameter = audited
    target = scope.get("path_params", {}).get(parameter) if parameter else None
    query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    reference = target if kind == "family" else next(iter(query.get("family_reference", [])), None)
    client = scope.get("client")
    ip = client[0] if client else None
    named: list[tuple[str, str | None]] | None = scope.get("state", {}).get(TARGET_KEY)
    if named is not None:
        for appointment_id, family_reference in named:
            log.note(Access("api-key", caller.key_id, caller.name, action, "appointment", appointment_id, ip,
                            appointment_id=appointment_id, family_reference=family_reference))
        return
    log.note(Access("api-key", caller.key_id, caller.name, action, kind, target, ip,
                    appointment_id=target if kind == "appointment" else None, family_reference=reference))


class AuditController(Controller):
    """The audit trail (scope ``admin``)."""

    path = "/v1/audit"
    tags = ("audit",)
    guards = (requires("admin"),)

    @get("/", operation_id="list_audit_entries", summary="Who read or changed a family's data")
    async def list_entries(
        self,
        svc: Services,
        state: State,
        from_: Annotated[str | None, Parameter(
            query="from", max_length=40, description="From this instant (ISO 8601 with offset).")] = None,
        to: Annotated[str | None, Parameter(max_length=40, description="Before this instant.")] = None,
        actor_id: Annotated[str | None, Parameter(max_length=64)] = None,
        appointment_id: Annotated[str | None, Parameter(max_length=64)] = None,
        family_reference: Annotated[str | None, Parameter(max_length=64)] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> AuditPage:
        found = await audit.page(
            svc, audit_log(state), start=query_instant("from", from_), end=query_instant("to", to),
            actor_id=actor_id, appointment_id=appointment_id, family_reference=family_reference,
            cursor=cursor, limit=limit)
        return AuditPage(items=[_entry(row) for row in found.rows], next_cursor=found.next_cursor)


def _entry(row: Any) -> AuditEntryOut:
    actor = AuditActorOut(kind=row.actor_kind, id=row.actor_id, name=row.actor_name)
    return AuditEntryOut(at=row.at, actor=actor, action=row.action,
                         target=AuditTargetOut(kind=row.target_kind, id=row.target_id),
                         ip=row.ip, family_reference=row.family_reference, appointment_id=row.appointment_id)
