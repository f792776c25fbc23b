"""Report pages: a link for a period and some sites, and the figures its page shows.

The token (256 random bits) is the page's only credential; the database keeps its SHA-256.
Every figure comes from the grouped statement of ``scheduler.db.stats_appointments``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scheduler.db import report_links as store
from scheduler.db import stats_appointments as figures
from scheduler.db.engine import Database
from scheduler.domain.errors import InvalidInput
from scheduler.services.appointment_stats import check_period, periods_of

LINK_DAYS = 30
TOKEN_BYTES = 32
# The page's groupings: months for the chart, then one table each.
SECTIONS = {"months": ("month",), "sites": ("site",), "services": ("service",), "languages": ("language",)}


@dataclass(frozen=True, slots=True)
class ReportLinkCreated:
    """The page's address and when it stops working."""

    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ReportFigures:
    """What a report page shows: its period and sites, the totals, the groups, and names for ids."""

    first: date
    last: date
    site_ids: list[str] | None
    totals: dict[str, int]
    sections: dict[str, list[dict[str, Any]]]
    site_names: dict[str, str]
    service_names: dict[str, str]


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(db: Database, first: date, last: date, site_ids: list[str] | None, public_url: str,
                      now: datetime) -> ReportLinkCreated:
    """A new report page for the period (and the sites, when given).

    Raises:
        InvalidInput: a period backwards or over 3 years, or an unknown site.
    """
    check_period(first, last)
    if db.access is not None and site_ids is None:
        # The page is read without a key: a key limited to some sites links to those sites only.
        site_ids = sorted(db.access.site_ids)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + timedelta(days=LINK_DAYS)
    async with db.write() as session:
        unknown = await store.unknown_sites(session, site_ids or [])
        if unknown:
            raise InvalidInput(f"Unknown site {unknown[0]!r}.", field="site_ids")
        await store.add(session, token_hash(token), first, last, site_ids, expires_at, now)
    return ReportLinkCreated(f"{public_url.rstrip('/')}/reports/{token}", expires_at)


async def report_figures(db: Database, token: str, now: datetime) -> ReportFigures | None:
    """The page's figures, or None for an unknown or expired link."""
    async with db.read() as session:
        link = await store.find(session, token_hash(token), now)
        if link is None:
            return None
        await figures.tune_for_report(session)
        zones = await figures.site_zones(session, link.site_ids)
        periods = periods_of(zones, link.from_date, link.to_date)
        sections, totals = {}, dict.fromkeys(figures.FIGURES, 0)
        for name, group_by in SECTIONS.items():
            query = figures.StatsQuery(periods, group_by, link.site_ids)
            found = await figures.appointment_figures(session, query)
            sections[name], totals = found.rows, found.totals
        sites = await store.site_names(session, (row["site_id"] for row in sections["sites"]))
        services = await store.service_names(session, (row["service_id"] for row in sections["services"]))
    return ReportFigures(link.from_date, link.to_date, link.site_ids, totals, sections, sites, services)
