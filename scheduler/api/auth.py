"""API keys: ``Authorization: Bearer <key>``, stored as SHA-256, with scopes checked by guards."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import select
from sqlmodel import col

from scheduler.db.engine import Database
from scheduler.db.tables import ApiKey

KEY_PREFIX = "crn_"
# A key looked up in the database is trusted for this long in each process: it keeps the hot
# paths at one query less, and bounds how long a revoked key still works on another worker.
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000
SETTINGS_ADMIN_ID = "settings-admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's id, name and scopes."""

    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """Admin keys hold every scope; ``appointments:write`` implies ``appointments:read``."""
        return "admin" in self.scopes or scope in self.scopes or (
            scope == "appointments:read" and "appointments:write" in self.scopes)


def new_key() -> str:
    """A fresh API key: 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Finds the principal behind a key: the settings' admin key, or a stored key."""

    def __init__(self, db: Database, admin_key: str | None, cache_entries: int = CACHE_ENTRIES) -> None:
        self._db = db
        self._cache_entries = cache_entries
        self._admin_hash = hash_key(admin_key) if admin_key else None
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, key: str) -> Principal | None:
        """The principal for ``key``, or None for an unknown or revoked key."""
        digest = hash_key(key)
        if self._admin_hash and hmac.compare_digest(digest, self._admin_hash):
            return Principal(SETTINGS_ADMIN_ID, "CRENEAU_ADMIN_API_KEY", frozenset({"admin"}))
        cached = self._cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = await self._lookup(digest)
        self._remember(digest, found)
        return found

    def _remember(self, digest: str, found: Principal | None) -> None:
        # Wrong keys are remembered too (a flood of them costs no query each), so the cache is
        # bounded: past the bound, expired entries go, and if that frees nothing, all of them.
        now = time.monotonic()
        if len(self._cache) >= self._cache_entries:
            self._cache = {key: entry for key, entry in self._cache.items() if entry[0] > now}
            if len(self._cache) >= self._cache_entries:
                self._cache.clear()
        self._cache[digest] = (now + CACHE_SECONDS, found)

    async def _lookup(self, digest: str) -> Principal | None:
        # Lookup by the hash's index; the hash of a 256-bit key leaks nothing to a timing probe.
        async with self._db.read() as session:
            statement = select(ApiKey).where(col(ApiKey.key_hash) == digest)
            row = (await session.execute(statement)).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(row.id, row.name, frozenset(row.scopes))

    def forget(self) -> None:
        """Drop cached look-ups (after a revocation in this process)."""
        self._cache.clear()


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Authenticates ``/v1`` requests; the rest (health, schema, feeds, webhooks) opt out by path."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthorizedException("Send an API key: Authorization: Bearer <key>.")
        keyring: KeyRing = connection.app.state.keyring
        principal = await keyring.principal(key.strip())
        if principal is None:
            raise NotAuthorizedException("Unknown or revoked API key.")
        return AuthenticationResult(user=principal, auth=principal)


def requires(scope: str) -> Any:
    """A guard that lets through keys holding ``scope``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal) or not principal.allows(scope):
            raise PermissionDeniedException(f"This API key lacks the {scope!r} scope.")

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    return guard
