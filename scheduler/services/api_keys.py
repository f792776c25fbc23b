"""API keys: created (shown in clear once), stored as SHA-256, looked up per request, revoked."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db import rows as setup_rows
from scheduler.db import usage
from scheduler.db.access import SiteAccess
from scheduler.db.tables import ApiKey, Site
from scheduler.domain.errors import NotFound
from scheduler.domain.events import Actor
from scheduler.ports import Clock, MonotonicClock, SystemClock, system_monotonic
from scheduler.services import admin, idempotency
from scheduler.services.idempotency import Created, IdempotentRequest, StoredResponse
from scheduler.services.paging import PageOf, cut, decode_cursor

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators
    from scheduler.db.engine import Database

KEY_PREFIX = "crn_"
# A key looked up in the database is trusted for this long in each process: it keeps the hot
# paths at one query less, and bounds how long a revoked key still works on another worker.
CACHE_SECONDS = 5.0
CACHE_ENTRIES = 10_000
KEYS_READ_AT_ONCE = 200
"""How many active keys a site-limited caller's listing reads at a time, to pick those it sees."""
SETTINGS_ADMIN_ID = "settings-admin"
# ``last_used_at`` is written at most this often per key and process, after the request's answer.
LAST_USED_EVERY_SECONDS = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key's id, name and scopes."""

    key_id: str
    name: str
    scopes: frozenset[str]
    site_ids: frozenset[str] | None = None
    """The sites the key sees and acts on; None: every site."""
    expires_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        """The key as the author of a change, in the appointment's history."""
        return Actor.api_key(self.key_id, self.name)

    def allows(self, scope: str) -> bool:
        """Admin keys hold every scope; ``appointments:write`` implies ``appointments:read``."""
        return "admin" in self.scopes or scope in self.scopes or (
            scope == "appointments:read" and "appointments:write" in self.scopes)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A created key: its row, and the key in clear (never stored)."""

    row: ApiKey
    key: str


def new_key() -> str:
    """A fresh API key: 256 random bits."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Finds the principal behind a key: the settings' admin key, or a stored key."""

    def __init__(self, db: Database, admin_key: str | None, cache_entries: int = CACHE_ENTRIES,
                 monotonic: MonotonicClock = system_monotonic, clock: Clock | None = None) -> None:
        self._db = db
        self._monotonic = monotonic
        self._clock = clock or SystemClock()
        self._used: dict[str, float] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._cache_entries = cache_entries
        self._admin_hash = hash_key(admin_key) if admin_key else None
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, key: str) -> Principal | None:
        """The principal for ``key``, or None for an unknown, revoked or expired key."""
        digest = hash_key(key)
        if self._admin_hash and hmac.compare_digest(digest, self._admin_hash):
            return Principal(SETTINGS_ADMIN_ID, "CRENEAU_ADMIN_API_KEY", frozenset({"admin"}))
        cached = self._cache.get(digest)
        if cached and cached[0] > self._monotonic():
            found = cached[1]
        else:
            found = await self._lookup(digest)
            self._remember(digest, found)
        if found is None:
            return None
        if found.expires_at is not None and found.expires_at <= self._clock.now():
            return None
        self._note_use(found.key_id)
        return found

    def _note_use(self, key_id: str) -> None:
        # One UPDATE per key and minute at most, in a task of its own: the request never waits.
        now = self._monotonic()
        if self._used.get(key_id, float("-inf")) > now - LAST_USED_EVERY_SECONDS:
            return
        self._used[key_id] = now
        if len(self._used) > self._cache_entries:
            self._used = {key_id: now}
        task = asyncio.get_running_loop().create_task(self._write_last_used(key_id, self._clock.now()))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_last_used(self, key_id: str, at: datetime) -> None:
        try:
            async with self._db.write() as session:
                await usage.key_used(session, key_id, at)
        except Exception as exc:  # noqa: BLE001 (a missed "last used" must never fail anything)
            # The error's name only: a driver's message may quote the statement's parameters.
            log.warning("could not record when an API key was last used (%s)", type(exc).__name__)

    async def drain(self) -> None:
        """Wait for the pending ``last_used_at`` writes (on shutdown)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _remember(self, digest: str, found: Principal | None) -> None:
        # Wrong keys are remembered too (a flood of them costs no query each), so the cache is
        # bounded: past the bound, expired entries go, and if that frees nothing, all of them.
        now = self._monotonic()
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
        sites = frozenset(row.site_ids) if row.site_ids is not None else None
        return Principal(row.id, row.name, frozenset(row.scopes), sites, row.expires_at)

    def forget(self) -> None:
        """Drop cached look-ups (after a revocation in this process)."""
        self._cache.clear()


async def create(
    deps: Collaborators, name: str, scopes: Sequence[str], request: IdempotentRequest | None,
    render: Callable[[NewKey], Created], site_ids: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> Created | StoredResponse:
    """A new key holding ``scopes`` (stored sorted, without repeats), limited to ``site_ids`` (None:
    every site the caller sees; each must exist and be seen by the caller, else NotFound), answered
    with ``render`` of it."""
    now = deps.clock.now()

    # A key limited to some sites makes keys limited to those sites at most: never a wider one.
    limit = deps.db.access
    if limit is not None and site_ids is None:
        site_ids = sorted(limit.site_ids)

    async def operation(session: AsyncSession) -> Created:
        sites = await _known_sites(session, site_ids)
        key = new_key()
        row = ApiKey(name=name, scopes=sorted(set(scopes)), key_hash=hash_key(key), created_at=now,
                     site_ids=sites, expires_at=expires_at)
        return render(NewKey(await admin.create(session, row), key))

    return await idempotency.create(deps.db, request, operation, now)


async def page(deps: Collaborators, cursor: str | None, limit: int) -> PageOf[ApiKey]:
    """A page of the keys not revoked that the caller sees (``sees``)."""
    caller = deps.db.access
    active = col(ApiKey.revoked_at).is_(None)
    async with deps.db.read() as session:
        if caller is None:
            return await admin.page(session, ApiKey, cursor, limit, active)
        # Keys are few (a partner's system, a school's tool...): a limited caller's are picked
        # from the active ones in id order, read in batches until the page is full.
        after = decode_cursor(cursor, 1)[0] if cursor else None
        kept: list[ApiKey] = []
        while len(kept) <= limit:
            batch = await setup_rows.page_by_id(session, ApiKey, after, KEYS_READ_AT_ONCE, active)
            kept += [key for key in batch[:KEYS_READ_AT_ONCE] if sees(caller, key)]
            if len(batch) <= KEYS_READ_AT_ONCE:
                break
            after = batch[KEYS_READ_AT_ONCE - 1].id
        return cut(kept[:limit + 1], limit, lambda key: (key.id,))


async def read(deps: Collaborators, key_id: str) -> ApiKey:
    """A key not revoked that the caller sees, or NotFound."""
    async with deps.db.read() as session:
        return await _active_key(session, deps.db.access, key_id)


def sees(caller: SiteAccess | None, key: ApiKey) -> bool:
    """Whether a caller sees (lists, reads, changes, revokes) a key: an unlimited caller every key; a
    caller limited to some sites, the keys limited to some of those (the keys it could have made)."""
    return caller is None or (key.site_ids is not None and caller.site_ids.issuperset(key.site_ids))


async def _active_key(session: AsyncSession, caller: SiteAccess | None, key_id: str) -> ApiKey:
    key = await admin.active_key(session, key_id)
    if not sees(caller, key):
        raise NotFound("API key", key_id)
    return key


async def update(deps: Collaborators, keyring: KeyRing, key_id: str, changes: dict[str, Any]) -> ApiKey:
    """Rename a key or change its scopes, sites or expiry; they apply from the next request in this
    process (in another, within ``CACHE_SECONDS``).

    A caller limited to some sites changes only the keys it sees (``sees``; another key is NotFound,
    as anything of another site), never to a site it does not see (NotFound) nor to every site
    (``site_ids: null`` gives the key the caller's sites, as at its creation).
    """
    limit = deps.db.access
    async with deps.db.write() as session:
        await _active_key(session, limit, key_id)
        if "site_ids" in changes:
            wanted = changes["site_ids"]
            if limit is not None and wanted is None:
                wanted = sorted(limit.site_ids)
            changes = {**changes, "site_ids": await _known_sites(session, wanted)}
        row = await admin.update_key(session, key_id, changes)
    keyring.forget()
    return row


async def _known_sites(session: AsyncSession, site_ids: Sequence[str] | None) -> list[str] | None:
    """``site_ids`` sorted without repeats, each a site the session sees (else NotFound)."""
    sites = None if site_ids is None else sorted(set(site_ids))
    for site_id in sites or ():
        await admin.get(session, Site, site_id, "site")
    return sites


async def revoke(deps: Collaborators, keyring: KeyRing, key_id: str) -> None:
    """Revoke a key; revoking twice is harmless."""
    async with deps.db.write() as session:
        if deps.db.access is not None:
            key = await admin.get(session, ApiKey, key_id, "API key")
            if not sees(deps.db.access, key):
                raise NotFound("API key", key_id)
        await admin.revoke_key(session, key_id, deps.clock.now())
    keyring.forget()
