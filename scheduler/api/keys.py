"""Admin: API keys, shown in clear once and stored hashed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.api import schemas as s
from scheduler.api.auth import KeyRing, Principal, hash_key, new_key, requires
from scheduler.api.common import Collaborators, Cursor, IdempotencyKey, Limit, create_idempotently
from scheduler.db.tables import ApiKey
from scheduler.services import admin


class ApiKeyController(Controller):
    """API keys."""

    path = "/v1/api-keys"
    tags = ("api keys",)
    guards = (requires("admin"),)

    @post("/", operation_id="create_api_key", summary="Create an API key (shown once)", status_code=201)
    async def create(
        self, request: Request[Principal, Any, Any], data: s.ApiKeyCreate, svc: Collaborators,
        idempotency_key: IdempotencyKey = None,
    ) -> s.ApiKeyCreated:
        async def operation(session: AsyncSession) -> BaseModel:
            key = new_key()
            scopes: list[str] = sorted(set(data.scopes))
            row = ApiKey(name=data.name, scopes=scopes, key_hash=hash_key(key), created_at=svc.clock.now())
            await admin.create(session, row)
            return s.ApiKeyCreated(id=row.id, name=row.name, scopes=scopes, key=key)

        return await create_idempotently(request, svc, data, idempotency_key, operation)  # type: ignore[return-value]

    @get("/", operation_id="list_api_keys", summary="List active API keys")
    async def list_keys(self, svc: Collaborators, limit: Limit = 100, cursor: Cursor = None) -> s.Page[s.ApiKeyOut]:
        async with svc.db.read() as session:
            found = await admin.page(session, ApiKey, cursor, limit, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
        items = [s.ApiKeyOut(id=row.id, name=row.name, scopes=row.scopes) for row in found.rows]
        return s.Page(items=items, next_cursor=found.next_cursor)

    @get("/{key_id:str}", operation_id="get_api_key", summary="Read an API key (never the key itself)")
    async def read(self, svc: Collaborators, key_id: str = Parameter(max_length=64)) -> s.ApiKeyOut:
        async with svc.db.read() as session:
            row = await admin.active_key(session, key_id)
        return s.ApiKeyOut(id=row.id, name=row.name, scopes=row.scopes)

    @patch("/{key_id:str}", operation_id="update_api_key", summary="Rename an API key or change its scopes")
    async def update(self, request: Request[Principal, Any, Any], data: s.ApiKeyUpdate, svc: Collaborators,
                     key_id: str = Parameter(max_length=64)) -> s.ApiKeyOut:
        async with svc.db.write() as session:
            row = await admin.update_key(session, key_id, data.model_dump(exclude_unset=True))
            found = s.ApiKeyOut(id=row.id, name=row.name, scopes=row.scopes)
        keyring: KeyRing = request.app.state.keyring
        keyring.forget()  # the new scopes apply from the next request in this process
        return found

    @delete("/{key_id:str}", operation_id="revoke_api_key", summary="Revoke an API key", status_code=204)
    async def revoke(self, request: Request[Principal, Any, Any], svc: Collaborators,
                     key_id: str = Parameter(max_length=64)) -> None:
        async with svc.db.write() as session:
            await admin.revoke_key(session, key_id, svc.clock.now())
        keyring: KeyRing = request.app.state.keyring
        keyring.forget()
