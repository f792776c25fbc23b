"""Webhook endpoints of the calling key (scope ``webhooks:write``): register, change, rotate, log,
retry, replay."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from scheduler.api import event_schemas as e
from scheduler.api import schemas as s
from scheduler.api.auth import Principal, requires
from scheduler.api.common import Cursor, Limit, Services
from scheduler.services import webhook_endpoints as endpoints
from scheduler.services.webhook_endpoints import (
    EndpointSpec,
    SecretKeyRequired,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSettings,
)

Key = Request[Principal, Any, Any]
EndpointId = Annotated[str, Parameter(max_length=64)]


def _config(svc: Services) -> WebhookSettings:
    if svc.webhooks is None:
        raise SecretKeyRequired(
            "Webhook secrets are stored encrypted: set CRENEAU_SECRET_KEY to use webhooks.")
    return svc.webhooks


def _out(row: WebhookEndpoint) -> e.WebhookEndpointOut:
    return e.WebhookEndpointOut(id=row.id, url=row.url, events=row.events, description=row.description,
                                disabled=row.disabled, disabled_reason=row.disabled_reason,
                                created_at=row.created_at, updated_at=row.updated_at)


def _delivery(row: WebhookDelivery) -> e.WebhookDeliveryOut:
    return e.WebhookDeliveryOut.model_validate(row, from_attributes=True)


class WebhookEndpointController(Controller):
    """Endpoints belong to the key that made them: another key gets 404."""

    path = "/v1/webhook-endpoints"
    tags = ("webhooks",)
    guards = (requires("webhooks:write"),)

    @post("/", operation_id="create_webhook_endpoint", summary="Register an endpoint (secret shown once)",
          status_code=201)
    async def create(
        self, request: Key, data: e.WebhookEndpointCreate, svc: Services
    ) -> e.WebhookEndpointCreated:
        row, secret = await endpoints.create(svc.db, _config(svc), request.user.key_id,
                                             EndpointSpec(data.url, data.events, data.description),
                                             svc.clock.now())
        return e.WebhookEndpointCreated(**_out(row).model_dump(), secret=secret)

    @get("/", operation_id="list_webhook_endpoints", summary="The key's endpoints")
    async def list_endpoints(self, request: Key, svc: Services, limit: Limit = 100,
                             cursor: Cursor = None) -> s.Page[e.WebhookEndpointOut]:
        rows, next_cursor = await endpoints.page(svc.db, request.user.key_id, cursor, limit)
        return s.Page(items=[_out(row) for row in rows], next_cursor=next_cursor)

    @get("/{endpoint_id:str}", operation_id="get_webhook_endpoint", summary="Read an endpoint")
    async def read(self, request: Key, svc: Services, endpoint_id: EndpointId) -> e.WebhookEndpointOut:
        return _out(await endpoints.get(svc.db, request.user.key_id, endpoint_id))

    @patch("/{endpoint_id:str}", operation_id="update_webhook_endpoint",
           summary="Change or disable an endpoint")
    async def update(self, request: Key, data: e.WebhookEndpointUpdate, svc: Services,
                     endpoint_id: EndpointId) -> e.WebhookEndpointOut:
        return _out(await endpoints.update_endpoint(svc.db, _config(svc), request.user.key_id, endpoint_id,
                                                    data.model_dump(exclude_unset=True), svc.clock.now()))

    @delete("/{endpoint_id:str}", operation_id="delete_webhook_endpoint", summary="Delete an endpoint")
    async def remove(self, request: Key, svc: Services, endpoint_id: EndpointId) -> None:
        await endpoints.remove(svc.db, request.user.key_id, endpoint_id)

    @post("/{endpoint_id:str}/rotate-secret", operation_id="rotate_webhook_secret", status_code=200,
          summary="A new secret (the old one keeps signing for 24 h)")
    async def rotate(self, request: Key, svc: Services, endpoint_id: EndpointId) -> e.WebhookSecret:
        secret = await endpoints.rotate_secret(svc.db, _config(svc), request.user.key_id, endpoint_id,
                                               svc.clock.now())
        return e.WebhookSecret(secret=secret)

    @get("/{endpoint_id:str}/deliveries", operation_id="list_webhook_deliveries", summary="The delivery log")
    async def deliveries(self, request: Key, svc: Services, endpoint_id: EndpointId,
                         status: e.DeliveryStatus | None = None, limit: Limit = 100,
                         cursor: Cursor = None) -> s.Page[e.WebhookDeliveryOut]:
        rows, next_cursor = await endpoints.deliveries(svc.db, request.user.key_id, endpoint_id, status,
                                                       cursor,
                                                       limit)
        return s.Page(items=[_delivery(row) for row in rows], next_cursor=next_cursor)

    @post("/{endpoint_id:str}/deliveries/{delivery_id:str}/retry", operation_id="retry_webhook_delivery",
          status_code=202, summary="Deliver again now")
    async def retry(self, request: Key, svc: Services, endpoint_id: EndpointId,
                    delivery_id: Annotated[str, Parameter(max_length=64)]) -> None:
        await endpoints.retry(svc.db, request.user.key_id, endpoint_id, delivery_id, svc.clock.now())

    @post("/{endpoint_id:str}/replay", operation_id="replay_webhook_events", status_code=202,
          summary="Deliver again every event since a time")
    async def replay(self, request: Key, data: e.ReplayIn, svc: Services,
                     endpoint_id: EndpointId) -> e.ReplayQueued:
        queued = await endpoints.replay(svc.db, request.user.key_id, endpoint_id, data.since, svc.clock.now())
        return e.ReplayQueued(queued=queued)
