"""Writing rows directly, as another worker (or an older version of the service) would have."""

from __future__ import annotations

import asyncio
from typing import Any

from scheduler.db.engine import Database
from tests.support.server import RunningServer


def write_directly(server: RunningServer, *statements: Any) -> None:
    """Run statements in one transaction from this process; the server's caches are not told."""

    async def run() -> None:
        db = Database.from_url(server.database.url)
        try:
            async with db.write() as session:
                for statement in statements:
                    await session.execute(statement)
        finally:
            await db.dispose()

    asyncio.run(run())
