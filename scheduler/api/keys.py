"""Admin: API keys, shown in clear once and stored hashed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from scheduler.api import schemas as s
from scheduler.api.auth import KeyRing, Principal, requires
from scheduler.api.common import Cursor, IdempotencyKey, Limit, Services, created, idempotent
from scheduler.services import api_keys
from scheduler.services.api_keys import NewKey


def key_out(row: Any) -> s.ApiKeyOut:
    """A key as its owner may read it: never the key itself."""
    return s.ApiKeyOut(id=row.id, name=row.name, scopes=row.scopes, site_ids=row.site_ids,
                       expires_at=row.expires_at, last_used_at=row.last_used_at)


def key_created(found: NewKey) -> s.ApiKeyCreated:
    """A created key, shown in clear this once."""
    row = found.row
    return s.ApiKeyCreated(id=row.id, name=row.name, scopes=row.scopes, site_ids=row.site_ids,
                           expires_at=row.expires_at, last_used_at=None, key=found.key)


def keyring(request: Request[Principal, Any, Any]) -> KeyRing:
    """This application's key ring."""
    found: KeyRing = request.app.state.keyring
    return found


class ApiKeyController(Controller):
    """API keys."""

    path = "/v1/api-keys"
    tags = ("api keys",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_api_key", summary="Create an API key (shown once)", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.ApiKeyCreate, svc: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> s.ApiKeyCreated:
        request_key = idempotent(request, data, idempotency_key)
        made = await api_keys.create(svc, data.name, data.scopes, request_key, key_created,
                                     site_ids=data.site_ids, expires_at=data.expires_at)
        return created(made)  # type: ignore[return-value]

    @get("/", operation_id="list_api_keys", summary="List active API keys")
    async def list_keys(
        self, svc: Services, limit: Limit = 100, cursor: Cursor = None
    ) -> s.Page[s.ApiKeyOut]:
        found = await api_keys.page(svc, cursor, limit)
        return s.Page(items=[key_out(row) for row in found.rows], next_cursor=found.next_cursor)

    @get("/{key_id:str}", operation_id="get_api_key", summary="Read an API key (never the key itself)")
    async def read(self, svc: Services, key_id: str = Parameter(max_length=64)) -> s.ApiKeyOut:
        return key_out(await api_keys.read(svc, key_id))

    @patch("/{key_id:str}", operation_id="update_api_key",
           summary="Rename an API key or change its scopes, sites or expiry")
    async def update(self, request: Request[Principal, Any, Any], data: s.ApiKeyUpdate, svc: Services,
                     key_id: str = Parameter(max_length=64)) -> s.ApiKeyOut:
        return key_out(
            await api_keys.update(svc, keyring(request), key_id, data.model_dump(exclude_unset=True))
        )

    @delete("/{key_id:str}", operation_id="revoke_api_key", summary="Revoke an API key", status_code=204)
    async def revoke(self, request: Request[Principal, Any, Any], svc: Services,
                     key_id: str = Parameter(max_length=64)) -> None:
        await api_keys.revoke(svc, keyring(request), key_id)
