"""A new booking's writes on PostgreSQL in two statements: one round trip for the place, the family
and the appointment, one for everything that follows from them.

1. ``TAKE``: ``creneau_take_place`` (migration 0018) takes a place on the first free candidate's
   block (nothing when the ``rules`` counter moved past the one the candidates were chosen at),
   then the family's row is upserted and the appointment inserted from both, in one
   statement of data-modifying CTEs. Each CTE selects from the one before, which orders them: the
   place is taken before the family's row is locked, as in every other write that does both (a
   move), so two such transactions never wait on each other. It answers which candidate was
   taken and the hold, the family's id, phone and consent (who the texts go to) and whether the
   appointment was written (not when its site does not fit its visit address, as
   ``appointments.INSERT``), or only the counter when nothing was taken.
2. ``after``: the family's link, the queued texts, the event and its webhook deliveries, inserted
   together. Which endpoints get the event is decided in SQL, as ``events.record`` decides it in
   Python (``subscribed``): enabled, subscribed to the type or to ``*``, and their key sees the site.

The database guarantees stay where they were: the hold's exclusion constraint, the family's
overlap guard and the foreign keys (checked at the end of the statement). A refusal by either
guard raises ``IntegrityError`` as the statement-per-step path does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import events, families, family_links, outbox, webhooks
from scheduler.db.appointments import appointment_table, site_table
from scheduler.db.event_tables import WebhookEndpoint
from scheduler.db.tables import ApiKey, Service, new_id
from scheduler.domain.events import ALL_TYPES, Event

# The appointment's own values are bound as ``a_<column>``; the CTEs' columns fill in the rest.
FROM_CTES: Final = ("staff_id", "site_id", "family_id", "staff_hold_id")


def _take_statement() -> Any:
    resource_ids = bindparam("resource_ids", type_=ARRAY(String))
    site_ids = bindparam("site_ids", type_=ARRAY(String))
    starts_at = bindparam("starts_at", type_=DateTime(timezone=True))
    places = func.creneau_take_place(
        resource_ids, bindparam("hold_ids", type_=ARRAY(String)), literal("staff"),
        bindparam("service_id", type_=String), starts_at,
        bindparam("ends_at", type_=DateTime(timezone=True)), bindparam("capacity", type_=Integer),
        bindparam("rules_seen", type_=BigInteger),
    ).table_valued("place", "hold_id", "rules")
    # One row always: the place taken and its hold (nulls when none), and the counter the function
    # read. The statements below read it directly and skip its nulls themselves: with a second CTE
    # keeping only a taken place, the 50-way race on one slot stalled for seconds (reproduced in
    # tests/e2e/test_concurrency.py; the cause was not found).
    taken = select(places.c.place, places.c.hold_id, places.c.rules).cte("taken")
    candidate = func.unnest(resource_ids, site_ids).table_valued(
        "staff_id", "site_id", with_ordinality="place").render_derived("candidate")
    family_table = families.family_table
    family = (families.upsert_statement("postgresql", after=taken, where=taken.c.hold_id.is_not(None))
              .returning(family_table.c.phone, family_table.c.sms_consent)
              .cte("family_row"))
    site_id = candidate.c.site_id
    c = appointment_table.c
    from_ctes = {"staff_id": candidate.c.staff_id, "site_id": site_id,
                 "family_id": family.c.id, "staff_hold_id": taken.c.hold_id}
    columns = list(appointment_table.columns)
    address = bindparam("a_visit_address", type_=c.visit_address.type)
    at_home = site_table.c.kind == "home"
    fits = exists().where(
        site_table.c.id == site_id,
        or_(and_(at_home, address.is_not(None)), and_(~at_home, address.is_(None))),
    )
    values = (
        select(*[from_ctes.get(column.name, bindparam(f"a_{column.name}", type_=column.type))
                 for column in columns])
        .select_from(taken)
        .join(candidate, candidate.c.place == taken.c.place)
        .join(family, true())
        .where(fits)
    )
    inserted = (appointment_table.insert()
                .from_select([column.name for column in columns], values)
                .returning(c.id)
                .cte("inserted"))
    service = Service.__table__  # type: ignore[attr-defined]
    offsets = select(service.c.reminder_offsets_minutes).where(
        service.c.id == bindparam("service_id")).scalar_subquery()
    return select(
        taken.c.rules, taken.c.place, taken.c.hold_id, family.c.id.label("family_id"), family.c.phone,
        family.c.sms_consent, select(func.count()).select_from(inserted).scalar_subquery().label("written"),
        offsets.label("offsets"),
    ).select_from(taken.outerjoin(family, true()))


TAKE: Final = _take_statement()


@dataclass(frozen=True, slots=True)
class Taken:
    """What ``take`` wrote: the candidate taken (its index) and its hold, and the family's row."""

    place: int
    """Index of the candidate whose place was taken."""
    hold_id: str
    family_id: str
    family_phone: str | None
    family_consent: bool
    written: bool
    """Whether the appointment was inserted (False: its site refused its visit address)."""
    reminder_offsets: Sequence[int] | None


@dataclass(frozen=True, slots=True)
class Refused:
    """``take`` wrote nothing: no candidate had a place free, or (``stale``) the ``rules`` counter
    had moved past the caller's ``rules_seen``."""

    stale: bool


async def take(
    session: AsyncSession, candidates: Sequence[tuple[str, str]], slot: Mapping[str, Any],
    family: Mapping[str, Any], appointment: Mapping[str, Any], rules_seen: int | None = None,
) -> Taken | Refused:
    """Take a place on the first free candidate (staff id, site id), upsert the family and insert the
    appointment, in one statement; ``Refused`` (nothing written) when no candidate had a place free.

    ``slot``: ``service_id``, ``starts_at``, ``ends_at`` and ``capacity``; ``family``: the values of
    ``families.UPSERT`` (``id``, ``reference``, ``phone``, ``language``, ``sms_consent``,
    ``updated_at``; ``starts_at`` is the slot's); ``appointment``: every appointment column but
    those the statement fills in (``FROM_CTES``). ``rules_seen``: the ``rules`` counter that the
    candidates were chosen at, when they were chosen without reading it in this transaction: if it
    has moved, nothing is written (``Refused(stale=True)``).

    Raises:
        IntegrityError: a guard refused it (the family's overlap guard: ``appointments.family_overlap``).
    """
    parameters: dict[str, Any] = {
        "resource_ids": [staff for staff, _ in candidates], "site_ids": [site for _, site in candidates],
        "hold_ids": [new_id() for _ in candidates], "rules_seen": rules_seen, **slot, **family,
    }
    parameters.update({f"a_{name}": value for name, value in appointment.items()})
    row = (await session.execute(TAKE, parameters)).one()
    if row.hold_id is None:
        return Refused(stale=rules_seen is not None and row.rules != rules_seen)
    return Taken(
        place=row.place - 1, hold_id=row.hold_id, family_id=row.family_id, family_phone=row.phone,
        family_consent=row.sms_consent, written=bool(row.written), reminder_offsets=row.offsets,
    )


EVENT_COLUMNS: Final = ("id", "type", "occurred_at", "actor_kind", "actor_id", "actor_name", "appointment_id",
                        "site_id", "pathway_id", "data")
LINK_COLUMNS: Final = ("token_hash", "appointment_id", "expires_at", "created_at")
TEXT_COLUMNS: Final = ("id", "appointment_id", "recipient", "kind", "event", "offset_minutes", "sequence",
                       "interpreter_id", "body", "status", "due_at", "expires_at", "attempts", "needs_lookup",
                       "created_at", "updated_at")
"""``outbox.rows``'s keys."""


def _bound(table: Any, names: Sequence[str], prefix: str) -> dict[str, Any]:
    return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names}


def _deliveries() -> Any:
    """The event's webhook deliveries, one per endpoint that receives it (``events.record``'s choice)."""
    endpoint = WebhookEndpoint.__table__  # type: ignore[attr-defined]
    key = ApiKey.__table__  # type: ignore[attr-defined]
    event = _bound(events.TABLE, EVENT_COLUMNS, "e_")
    subscribed = cast(endpoint.c.events, postgresql.JSONB)
    sites = key.c.site_ids
    chosen = (
        select(
            func.replace(cast(func.gen_random_uuid(), String), "-", ""), endpoint.c.id, event["id"],
            event["type"], literal(webhooks.PENDING), literal(0), event["occurred_at"], event["occurred_at"],
        )
        .select_from(endpoint.outerjoin(key, key.c.id == endpoint.c.api_key_id))
        .where(
            endpoint.c.disabled.is_(False),
            or_(subscribed.has_key(ALL_TYPES), subscribed.has_key(event["type"])),
            or_(sites.is_(None), func.json_typeof(sites) == "null",
                cast(sites, postgresql.JSONB).has_key(event["site_id"])),
        )
    )
    names = ["id", "endpoint_id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
             "created_at"]
    return webhooks.DELIVERIES.insert().from_select(names, chosen)


@lru_cache(maxsize=16)
def _after_statement(link: bool, texts: int) -> Any:
    """``after``'s statement, built once for each shape (with or without a link, how many texts)."""
    event = events.TABLE.insert().values(xid=events.CURRENT_XID, **_bound(events.TABLE, EVENT_COLUMNS, "e_"))
    writes = [event, _deliveries()]
    if link:
        writes.append(family_links.link.insert().values(**_bound(family_links.link, LINK_COLUMNS, "l_")))
    if texts:
        # INSERT … SELECT rather than a multi-row VALUES, which SQLAlchemy would compile anew each time.
        rows = [select(*_bound(outbox.TABLE, TEXT_COLUMNS, f"t{n}_").values()) for n in range(texts)]
        chosen = union_all(*rows) if texts > 1 else rows[0]
        writes.append(outbox.TABLE.insert().from_select(TEXT_COLUMNS, chosen))
    return select(literal(1)).add_cte(*[write.cte(f"w{n}") for n, write in enumerate(writes)])


async def after(
    session: AsyncSession, link: Mapping[str, Any] | None, texts: Sequence[Mapping[str, Any]], event: Event,
) -> None:
    """Insert the new appointment's link (``family_links.link``'s row, or None), its queued texts
    (``outbox.rows``) and its event with the event's deliveries, in one statement."""
    values = events.values_of(event, "sqlite")  # the xid is the statement's own
    parameters = {f"e_{name}": values[name] for name in EVENT_COLUMNS}
    if link is not None:
        parameters.update({f"l_{name}": link[name] for name in LINK_COLUMNS})
    for n, text in enumerate(texts):
        parameters.update({f"t{n}_{name}": text[name] for name in TEXT_COLUMNS})
    await session.execute(_after_statement(link is not None, len(texts)), parameters)
