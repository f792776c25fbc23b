"""API keys: ``Authorization: Bearer <key>``, stored as SHA-256, with scopes checked by guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

# The key ring, the principal and the key helpers live with the API key use cases; the
# middleware and the guards below are their HTTP side.
from scheduler.services.api_keys import KeyRing, Principal, hash_key, new_key

__all__ = ["ApiKeyMiddleware", "KeyRing", "Principal", "hash_key", "new_key", "requires"]


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """Authenticates ``/v1`` requests; the rest (health, schema, feeds, webhooks) opt out by path."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
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
        if connection.scope.get("method") == "OPTIONS":
            return  # Litestar's own answer (the Allow header): the middleware asks no key for it
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal) or not principal.allows(scope):
            raise PermissionDeniedException(f"This API key lacks the {scope!r} scope.")

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    return guard
