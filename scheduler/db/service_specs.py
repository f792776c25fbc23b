"""Services as the slot engine sees them: duration, capacity, notice and horizon."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import Service
from scheduler.domain.slots import ServiceSpec

# Built once, with bound parameters: every search and booking reads it.
SERVICE: Final = select(
    col(Service.id), col(Service.duration_minutes), col(Service.capacity), col(Service.min_notice_minutes),
    col(Service.horizon_days),
).where(col(Service.id) == bindparam("service_id"))


@lru_cache(maxsize=1024)
def service_spec(service_id: str, duration_minutes: int, capacity: int, min_notice_minutes: int,
                 horizon_days: int) -> ServiceSpec:
    """The engine's view of a service row (kept per content: an edited service is another entry)."""
    return ServiceSpec(
        id=service_id,
        duration=timedelta(minutes=duration_minutes),
        capacity=capacity,
        min_notice=timedelta(minutes=min_notice_minutes),
        horizon=timedelta(days=horizon_days),
    )


async def spec(session: AsyncSession, service_id: str) -> ServiceSpec | None:
    """The service's spec, or None when there is no such service."""
    row = (await session.execute(SERVICE, {"service_id": service_id})).first()
    return None if row is None else service_spec(*row)
