"""Retention: what is erased or deleted once it is no longer needed (RGPD), one transaction per kind."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import appointments, families, family_links, interpreter_releases
from scheduler.services.feeds import CANCELLED_KEPT


async def erase_expired_phones(session: AsyncSession, now: datetime, retention: timedelta) -> int:
    """Erase the phone of families whose last appointment is older than ``retention``, and their home
    visit addresses; how many phones."""
    await appointments.erase_visit_addresses_unseen_since(session, now - retention)
    return await families.erase_phones_unseen_since(session, now - retention, now)


async def purge_expired_family_links(session: AsyncSession, now: datetime) -> int:
    """Delete the family page links past their expiry (they answer 404 already); how many."""
    return await family_links.purge_expired(session, now)


async def purge_interpreter_releases(session: AsyncSession, now: datetime) -> int:
    """Delete the interpreter releases older than a cancelled event stays in a feed; how many."""
    return await interpreter_releases.purge_older_than(session, now - CANCELLED_KEPT)
