"""Report links (only their token's hash is kept) and the names a report page shows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduler.db.tables import ReportLink, Service, Site


async def add(session: AsyncSession, token_hash: str, first: date, last: date, site_ids: list[str] | None,
              expires_at: datetime, now: datetime) -> None:
    """A new link."""
    await session.execute(insert(ReportLink).values(
        token_hash=token_hash, from_date=first, to_date=last, site_ids=site_ids, expires_at=expires_at,
        created_at=now))


async def find(session: AsyncSession, token_hash: str, now: datetime) -> ReportLink | None:
    """The link, unless unknown or expired."""
    statement = select(ReportLink).where(col(ReportLink.token_hash) == token_hash,
                                         col(ReportLink.expires_at) > now)
    return (await session.execute(statement)).scalar_one_or_none()


async def unknown_sites(session: AsyncSession, site_ids: Iterable[str]) -> list[str]:
    """The ids among these that name no site."""
    wanted = set(site_ids)
    found = set((await session.execute(select(col(Site.id)).where(col(Site.id).in_(wanted)))).scalars())
    return sorted(wanted - found)


async def site_names(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    """Site id → name."""
    statement = select(col(Site.id), col(Site.name)).where(col(Site.id).in_(set(ids)))
    return {ident: name for ident, name in (await session.execute(statement)).all()}


async def service_names(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    """Service id → name."""
    statement = select(col(Service.id), col(Service.name)).where(col(Service.id).in_(set(ids)))
    return {ident: name for ident, name in (await session.execute(statement)).all()}
