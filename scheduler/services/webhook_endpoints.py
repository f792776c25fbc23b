"""Webhook endpoints of an API key: register, change, rotate the secret, read the log, retry, replay.

Each function opens its own transaction. An endpoint belongs to the key that made it: any
other key gets 404, as if it did not exist. URLs are checked (https, public address) before the
transaction, so a slow DNS answer never holds the database's write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from scheduler.db import events as event_store
from scheduler.db import webhooks as store
from scheduler.db.engine import Database
from scheduler.db.event_tables import WebhookDelivery, WebhookEndpoint
from scheduler.domain.errors import ConflictError, InvalidInput, NotFound
from scheduler.domain.events import ALL_TYPES, check_subscription
from scheduler.services import paging
from scheduler.webhooks import addresses
from scheduler.webhooks.secrets import SecretBox, new_secret

__all__ = [
    "EndpointSpec", "SecretKeyRequired", "WebhookDelivery", "WebhookEndpoint", "WebhookSettings", "create",
    "deliveries", "get", "page", "remove", "replay", "retry", "rotate_secret", "update_endpoint",
]

ROTATION_OVERLAP: Final = timedelta(hours=24)
"""After a rotation the old secret keeps signing this long, so receivers can switch at their pace."""


class SecretKeyRequired(ConflictError):
    """Endpoint secrets are stored encrypted under CRENEAU_SECRET_KEY, which is not set."""

    code = "secret-key-required"
    title = "CRENEAU_SECRET_KEY required"


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """What a key asks for: the URL, the event types, a description."""

    url: str
    events: list[str]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """What endpoint management needs from the settings."""

    box: SecretBox | None
    allow_private: bool


async def create(db: Database, config: WebhookSettings, owner: str, spec: EndpointSpec,
                 now: datetime) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret in clear (shown this once)."""
    if config.box is None:
        raise SecretKeyRequired(
            "Webhook secrets are stored encrypted: set CRENEAU_SECRET_KEY to register endpoints.")
    await addresses.check_for_registration(spec.url, allow_private=config.allow_private)
    secret = new_secret()
    row = WebhookEndpoint(api_key_id=owner, url=spec.url, events=check_subscription(spec.events),
                          description=spec.description, secret_encrypted=config.box.seal(secret),
                          created_at=now, updated_at=now)
    async with db.write() as session:
        session.add(row)
    return row, secret


async def page(
    db: Database, owner: str, cursor: str | None, limit: int
) -> tuple[list[WebhookEndpoint], str | None]:
    """The key's endpoints, by id."""
    after = paging.decode_cursor(cursor, 1)[0] if cursor else None
    async with db.read() as session:
        rows = await store.endpoints_of(session, owner, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, paging.encode_cursor(rows[-1].id) if more else None


async def get(db: Database, owner: str, endpoint_id: str) -> WebhookEndpoint:
    """One of the key's endpoints."""
    async with db.read() as session:
        return await _owned(session, owner, endpoint_id)


async def _owned(session: Any, owner: str, endpoint_id: str) -> WebhookEndpoint:
    row = await store.endpoint(session, endpoint_id)
    if row is None or row.api_key_id != owner:
        raise NotFound("webhook endpoint", endpoint_id)
    return row


async def update_endpoint(db: Database, config: WebhookSettings, owner: str, endpoint_id: str,
                          changes: dict[str, Any], now: datetime) -> WebhookEndpoint:
    """Change the URL, the types, the description, or disable/enable (enabling forgets past failures)."""
    if "url" in changes:
        if changes["url"] is None:
            raise InvalidInput("`url` cannot be null.")
        await addresses.check_for_registration(changes["url"], allow_private=config.allow_private)
    if "events" in changes:
        if changes["events"] is None:
            raise InvalidInput("`events` cannot be null.")
        changes["events"] = check_subscription(changes["events"])
    async with db.write() as session:
        row = await _owned(session, owner, endpoint_id)
        for name in ("url", "events", "description"):
            if name in changes:
                setattr(row, name, changes[name])
        if changes.get("disabled") is True and not row.disabled:
            row.disabled, row.disabled_reason = True, "by-owner"
        elif changes.get("disabled") is False:
            row.disabled, row.disabled_reason, row.failing_since = False, None, None
        row.updated_at = now
    return row


async def remove(db: Database, owner: str, endpoint_id: str) -> None:
    """Delete an endpoint and its delivery log."""
    async with db.write() as session:
        await _owned(session, owner, endpoint_id)
        await store.remove_endpoint(session, endpoint_id)


async def rotate_secret(
    db: Database, config: WebhookSettings, owner: str, endpoint_id: str, now: datetime
) -> str:
    """A new secret; the current one keeps signing too for 24 h."""
    if config.box is None:
        raise SecretKeyRequired("Webhook secrets are stored encrypted: set CRENEAU_SECRET_KEY.")
    secret = new_secret()
    async with db.write() as session:
        row = await _owned(session, owner, endpoint_id)
        row.previous_secret_encrypted = row.secret_encrypted
        row.previous_secret_expires_at = now + ROTATION_OVERLAP
        row.secret_encrypted = config.box.seal(secret)
        row.updated_at = now
    return secret


async def deliveries(db: Database, owner: str, endpoint_id: str, status: str | None, cursor: str | None,
                     limit: int) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's delivery log, newest first."""
    after = None
    if cursor:
        created, ident = paging.decode_cursor(cursor, 2)
        after = (paging.cursor_instant(created), ident)
    async with db.read() as session:
        await _owned(session, owner, endpoint_id)
        rows = await store.deliveries_of(session, endpoint_id, status, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = paging.encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more else None
    return rows, next_cursor


async def retry(db: Database, owner: str, endpoint_id: str, delivery_id: str, now: datetime) -> None:
    """Put a delivery back in the queue, due now, with a fresh retry schedule (same ``webhook-id``)."""
    async with db.write() as session:
        await _owned(session, owner, endpoint_id)
        found = await store.delivery(session, endpoint_id, delivery_id)
        if found is None:
            raise NotFound("webhook delivery", delivery_id)
        await store.requeue(session, delivery_id, now)


async def replay(db: Database, owner: str, endpoint_id: str, since: datetime, now: datetime) -> int:
    """Queue again every event since ``since`` of the endpoint's types; returns how many were queued.

    One delivery row per (endpoint, event): an event delivered already is queued again on its row
    (same ``webhook-id``, fresh schedule), and so is one still pending (due now).
    """
    async with db.write() as session:
        row = await _owned(session, owner, endpoint_id)
        types = None if ALL_TYPES in row.events else row.events
        found = await event_store.since(session, since, types)
        queued = 0
        for event in found:
            queued += await store.queue(session, [endpoint_id], event.id, event.type, now)
    return queued
