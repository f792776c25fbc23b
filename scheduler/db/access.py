"""Which sites a caller sees: one rule, applied by the database session to every query it runs.

An API key may be limited to some sites (``api_key.site_ids``). Such a key sees and acts on
those sites only: anything at another site behaves as if it did not exist (404). The limit is
not checked per handler: it is carried by the database session and added to the SQL itself.

How it flows:

1. The ``svc`` dependency of the API (``scheduler.api.common.services``) gives every request of
   a limited key a ``Database`` view limited to its sites (``Database.within(SiteAccess(...))``);
   every use case opens its transactions on that view, as it does on the plain one.
2. Each session opened on that view carries the ``SiteAccess`` in ``session.info``.
3. ``_limit_statement`` (a ``do_orm_execute`` listener) adds, to every ORM SELECT, UPDATE and
   DELETE of such a session, a ``with_loader_criteria`` per registered table: appointments at
   other sites, their events, messages, replies... are simply not in any result, not even in
   the joins, subqueries and counts of the stats.

Sessions of background work (jobs, dispatch, feeds, the family page) carry no limit.

Adopting it for a new table (pathways, waiting-list entries...) is one line next to the table:

    access.by_site(Pathway, lambda: Pathway.site_id)                # rows that have a site
    access.by_appointment(Entry, lambda: Entry.appointment_id)      # rows of an appointment

and its queries select the ORM entity or its attributes (``select(Pathway)``,
``select(col(Pathway.id))``, ``update(Pathway)``): a Core ``Pathway.__table__`` statement
bypasses the ORM and so the limit. The site-isolation matrix test (tests/api/test_site_access.py)
exercises every operation of the served document with a key of another site, so a route or a
query that escapes the limit fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import event, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from scheduler.db.engine import ACCESS_KEY
from scheduler.db.event_tables import Event
from scheduler.db.inbox import InboundMessage
from scheduler.db.outbox import OutboxMessage
from scheduler.db.tables import (
    Appointment,
    AuditEntry,
    AvailabilityRule,
    Closure,
    Family,
    Opening,
    Pathway,
    Site,
)
from scheduler.db.waitlist_tables import WaitlistEntry, WaitlistOffer

INFO_KEY: Final = ACCESS_KEY


@dataclass(frozen=True, slots=True)
class SiteAccess:
    """The sites a caller may see and act on."""

    site_ids: frozenset[str]

    def sees(self, site_id: str | None) -> bool:
        """Whether a row of ``site_id`` is visible."""
        return site_id in self.site_ids


Rule = Callable[[frozenset[str]], ColumnElement[bool]]
_RULES: dict[type, Rule] = {}


def by_site(entity: type, column: Callable[[], Any]) -> None:
    """Limit ``entity``'s rows to those whose ``column()`` is one of the caller's sites."""
    _RULES[entity] = lambda sites: col(column()).in_(sites)
    _criteria.cache_clear()


def by_site_or_none(entity: type, column: Callable[[], Any]) -> None:
    """As ``by_site``, with the rows of no site visible to all (an interpreter's weekly rules)."""
    _RULES[entity] = lambda sites: or_(col(column()).in_(sites), col(column()).is_(None))
    _criteria.cache_clear()


def by_appointment(entity: type, column: Callable[[], Any]) -> None:
    """Limit ``entity``'s rows to those of an appointment at one of the caller's sites (rows with no
    appointment are hidden too)."""
    _RULES[entity] = lambda sites: col(column()).in_(
        select(col(Appointment.id)).where(col(Appointment.site_id).in_(sites)))
    _criteria.cache_clear()


def by_rule(entity: type, rule: Rule) -> None:
    """Limit ``entity``'s rows to those ``rule(sites)`` keeps (a family: one with an appointment there)."""
    _RULES[entity] = rule
    _criteria.cache_clear()


def limit(session: Any, access: SiteAccess | None) -> None:
    """Make every later query of ``session`` (sync or async) see ``access``'s sites only."""
    if access is not None:
        session.info[INFO_KEY] = access


def access_of(session: Any) -> SiteAccess | None:
    """The limit of a session, or None."""
    found: SiteAccess | None = session.info.get(INFO_KEY)
    return found


@event.listens_for(Session, "do_orm_execute")
def _limit_statement(state: ORMExecuteState) -> None:
    access: SiteAccess | None = state.session.info.get(INFO_KEY)
    if access is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*_criteria(access.site_ids))


@lru_cache(maxsize=256)
def _criteria(sites: frozenset[str]) -> tuple[Any, ...]:
    # Built once per set of sites: the same option objects also keep SQLAlchemy's compiled
    # statement cache warm, so a limited key's queries cost little more than anyone's.
    return tuple(with_loader_criteria(entity, rule(sites)) for entity, rule in _RULES.items())


by_site(Appointment, lambda: Appointment.site_id)
by_site(Site, lambda: Site.id)
by_site_or_none(AvailabilityRule, lambda: AvailabilityRule.site_id)
by_site(Opening, lambda: Opening.site_id)
by_site(Closure, lambda: Closure.site_id)
by_site(Event, lambda: Event.site_id)
by_site(Pathway, lambda: Pathway.site_id)
# An entry for any site of a service is no one site's: a limited key sees only its own sites' entries.
by_site(WaitlistEntry, lambda: WaitlistEntry.site_id)
by_site(WaitlistOffer, lambda: WaitlistOffer.site_id)
by_appointment(OutboxMessage, lambda: OutboxMessage.appointment_id)
by_appointment(InboundMessage, lambda: InboundMessage.appointment_id)
by_appointment(AuditEntry, lambda: AuditEntry.appointment_id)
by_rule(Family, lambda sites: col(Family.id).in_(
    select(col(Appointment.family_id)).where(col(Appointment.site_id).in_(sites))))
