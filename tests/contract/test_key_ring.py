"""API keys looked up in the database are remembered a few seconds, in a bounded cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from scheduler.api.auth import KeyRing, hash_key, new_key
from scheduler.db.engine import Database
from scheduler.db.tables import ApiKey
from tests.support.databases import DatabaseHandle

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    handle = Database.from_url(database.url)
    yield handle
    await handle.dispose()


async def test_a_flood_of_wrong_keys_keeps_the_cache_bounded_and_real_keys_working(db: Database) -> None:
    key = new_key()
    async with db.write() as session:
        session.add(ApiKey(name="partner", scopes=["slots:read"], key_hash=hash_key(key),
                           created_at=datetime(2026, 12, 1, tzinfo=UTC)))
    ring = KeyRing(db, admin_key=None, cache_entries=50)

    for _ in range(500):
        assert await ring.principal(new_key()) is None
        assert len(ring._cache) <= 50

    principal = await ring.principal(key)
    assert principal is not None and principal.scopes == frozenset({"slots:read"})
