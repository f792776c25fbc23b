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
   DELETE of such a session, a ``with_loader_criteria`` per registered table the statement names
   (``limited_entities``): appointments at other sites, their events, messages, replies... are
   simply not in any result, not even in the joins, subqueries and counts of the stats.

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
from sqlalchemy.sql import visitors
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
SHAPES_KEPT: Final = 4096
"""How many statement shapes ``limited_entities`` remembers (then it starts again)."""
_SHAPES: dict[Any, frozenset[type]] = {}
THROUGH_OPTION: Final = "creneau_limited_through"


def by_site(entity: type, column: Callable[[], Any]) -> None:
    """Limit ``entity``'s rows to those whose ``column()`` is one of the caller's sites."""
    _RULES[entity] = lambda sites: col(column()).in_(sites)
    _clear()


def by_site_or_none(entity: type, column: Callable[[], Any]) -> None:
    """As ``by_site``, with the rows of no site visible to all (an interpreter's weekly rules)."""
    _RULES[entity] = lambda sites: or_(col(column()).in_(sites), col(column()).is_(None))
    _clear()


def by_appointment(entity: type, column: Callable[[], Any]) -> None:
    """Limit ``entity``'s rows to those of an appointment at one of the caller's sites (rows with no
    appointment are hidden too)."""
    _RULES[entity] = lambda sites: col(column()).in_(
        select(col(Appointment.id)).where(col(Appointment.site_id).in_(sites)))
    _clear()


def by_rule(entity: type, rule: Rule) -> None:
    """Limit ``entity``'s rows to those ``rule(sites)`` keeps (a family: one with an appointment there)."""
    _RULES[entity] = rule
    _clear()


def _clear() -> None:
    _SHAPES.clear()
    _criteria.cache_clear()
    _criterion.cache_clear()


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
    # A relationship's lazy load is limited as any statement (the criteria its parent query carried
    # are those of the parent's entities only); a column load refreshes a row already let through.
    if access is None or state.is_column_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    through = state.execution_options.get(THROUGH_OPTION)
    entities = frozenset((through,)) if through is not None else limited_entities(state.statement)
    if entities:
        state.statement = state.statement.options(*_criteria(access.site_ids, entities))


def through(statement: Any, entity: type) -> Any:
    """``statement`` limited by ``entity``'s rule alone, its other limited entities being reached from
    ``entity`` by inner joins only (a family and a site through their appointment): their rows are
    those of ``entity``'s visible rows, so their own criteria (a family's is a subquery) would only
    cost time. An outer join, or a subquery of its own, must not be declared so."""
    return statement.execution_options(**{THROUGH_OPTION: entity})


def limited_entities(statement: Any) -> frozenset[type]:
    """The limited entities a statement names anywhere: its columns, joins, subqueries, CTEs...

    A criterion applies only where its entity appears, so the others are left out: the cache key
    SQLAlchemy derives from the statement (each execution) then covers one or two criteria rather
    than every registered table's. Statements of the same shape (the same cache key, which
    SQLAlchemy's compiled cache also relies on) name the same entities: the walk through the
    statement is done once per shape, the key (built once, kept on the statement) finds it after.
    """
    key = statement._generate_cache_key()
    if key is None:  # a statement SQLAlchemy does not cache: walked each time
        return _named_entities(statement)
    found = _SHAPES.get(key.key)
    if found is None:
        if len(_SHAPES) >= SHAPES_KEPT:
            _SHAPES.clear()
        found = _SHAPES[key.key] = _named_entities(statement)
    return found


def _named_entities(statement: Any) -> frozenset[type]:
    # An ORM appearance of an entity is an element annotated with it (``parententity``); a Core
    # ``__table__`` one is not, and is not limited anyway.
    found: set[type] = set()
    for element in visitors.iterate(statement):
        annotations = element._annotations
        if annotations:
            entity = annotations.get("parententity")
            if entity is not None and entity.mapper.class_ in _RULES:
                found.add(entity.mapper.class_)
    return frozenset(found)


@lru_cache(maxsize=1024)
def _criteria(sites: frozenset[str], entities: frozenset[type]) -> tuple[Any, ...]:
    # The same option objects for the same sites and entities: built once, not per statement.
    return tuple(_criterion(sites, entity) for entity in sorted(entities, key=lambda entity: entity.__name__))


@lru_cache(maxsize=1024)
def _criterion(sites: frozenset[str], entity: type) -> Any:
    # Aliases too: an ``aliased(Appointment)`` in some query must not escape the limit.
    return with_loader_criteria(entity, _RULES[entity](sites), include_aliases=True)


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
