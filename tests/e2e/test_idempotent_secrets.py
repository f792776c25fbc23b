"""Secrets shown once are never kept for an idempotent replay.

An API key and a feed token are created with an ``Idempotency-Key``; afterwards every table of
the database is read and none may hold the secret in clear. A replay of the same request answers
409 ``secret-not-replayed`` with the created object less its secret, also after the key was revoked.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import created, programme
from tests.support.server import RunningServer


async def _every_value(url: str) -> str:
    """Every row of every table, as one text."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            rows: list[Any] = []
            for table in metadata.sorted_tables:
                rows.extend((await connection.execute(select(table))).all())
            return "\n".join(repr(tuple(row)) for row in rows)
    finally:
        await engine.dispose()


def _database_text(server: RunningServer) -> str:
    return asyncio.run(_every_value(server.database.url))


def test_an_api_key_is_not_kept_for_a_replay(server: RunningServer) -> None:
    body = {"name": "replayed", "scopes": ["slots:read"]}
    headers = {"Idempotency-Key": "key-secret-1"}
    with server.client() as client:
        first = client.post("/v1/api-keys", json=body, headers=headers)
        made = created(first)
        assert made["key"].startswith("crn_")
        assert made["key"] not in _database_text(server)
        assert client.delete(f"/v1/api-keys/{made['id']}").status_code == 204
        replay = client.post("/v1/api-keys", json=body, headers=headers)
    assert replay.status_code == 409, replay.text
    assert replay.headers["content-type"].startswith("application/problem+json")
    problem = replay.json()
    assert problem["code"] == "secret-not-replayed"
    assert problem["created"] == {"id": made["id"], "name": "replayed", "scopes": ["slots:read"],
                                  "site_ids": None, "expires_at": None, "last_used_at": None}
    assert made["key"] not in replay.text


def test_a_feed_token_is_not_kept_for_a_replay(server: RunningServer) -> None:
    with server.client() as client:
        prog = programme(client)
        headers = {"Idempotency-Key": "feed-secret-1"}
        path = f"/v1/staff/{prog.staff_id}/feeds"
        made = created(client.post(path, json={"name": "agenda"}, headers=headers))
        stored = _database_text(server)
        assert made["token"] not in stored and made["url"] not in stored
        replay = client.post(path, json={"name": "agenda"}, headers=headers)
    assert replay.status_code == 409, replay.text
    assert replay.json()["code"] == "secret-not-replayed"
    assert made["token"] not in replay.text
    assert replay.json()["created"]["name"] == "agenda"


def test_an_answer_without_a_secret_is_replayed_as_it_was(server: RunningServer) -> None:
    with server.client() as client:
        headers = {"Idempotency-Key": "site-1"}
        body = {"name": "Replayed site", "kind": "office", "address": "1 rue de la Paix",
                "timezone": "Europe/Paris", "public_label": "Accueil"}
        first = created(client.post("/v1/sites", json=body, headers=headers))
        again = client.post("/v1/sites", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first
