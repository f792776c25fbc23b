"""change counters: one counter per staff member, site, interpreter and service, raised by triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

``change_counter`` holds one row per key (``staff:<id>``, ``site:<id>``, ``interpreter:<id>``,
``service:<id>``, plus ``rules`` and ``catalogue``), whose ``seq`` goes up by one in the
transaction of every write that a cache or a feed depends on, and ``changed_ms`` (epoch
milliseconds) says when. Triggers raise them, so no handler can forget to: caches in every
process compare the counters they were built at with the current ones (one indexed read) and
a feed's ETag is its owner's counter (see ``scheduler.db.counters`` for what raises what).

On PostgreSQL the triggers are ``CONSTRAINT ... DEFERRABLE INITIALLY DEFERRED``: the counter
row is updated (and its row lock taken) when the writing transaction commits, not when it
writes, so two bookings at one site wait for each other only for the commit itself. An
``UPDATE seq = seq + 1`` under that row lock keeps each counter monotonic in commit order
(a sequence, or a log of inserts, would not: transactions commit out of order). On SQLite,
whose writers are serialised anyway, they run at once, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What an appointment's feeds show (its bookkeeping columns, phone and SMS counts, raise nothing).
APPOINTMENT_SHOWN = (
    "status", "service_id", "staff_id", "site_id", "family_id", "starts_at", "ends_at", "staff_hold_id",
    "interpreter_language", "interpreter_id", "interpreter_hold_id", "interpreter_status",
    "interpreter_agency", "interpreter_reference", "note", "visit_address", "cancel_reason", "sequence",
    "updated_at", "cancelled_at", "cancelled_by", "attendees", "pathway_id",
)
# A pathway's feeds number its sessions ("Séance 2/3"): a change to one session raises the
# owners of every other session of the pathway too.
PATHWAY_OWNERS = (
    "SELECT 'staff:' || staff_id FROM appointment WHERE pathway_id = {row}.pathway_id",
    "SELECT 'site:' || site_id FROM appointment WHERE pathway_id = {row}.pathway_id",
    "SELECT 'interpreter:' || interpreter_id FROM appointment WHERE pathway_id = {row}.pathway_id",
)


class Raised:
    """The keys one table's row raises: expressions over ``{row}`` (NEW or OLD), and queries."""

    def __init__(self, table: str, keys: Sequence[str], queries: Sequence[str] = (),
                 columns: Sequence[str] = (), changed: str | None = None, events: str = "IUD") -> None:
        self.table, self.keys, self.queries = table, keys, queries
        self.columns = columns  # an UPDATE raises only when one of them is set (none: any update)
        self.changed = changed  # and, if given, only when this column's value changed
        self.events = events


RAISED = (
    Raised("appointment",
           ("'staff:' || {row}.staff_id", "'site:' || {row}.site_id", "'service:' || {row}.service_id",
            "'interpreter:' || {row}.interpreter_id"), PATHWAY_OWNERS, columns=APPOINTMENT_SHOWN),
    Raised("hold", ("{row}.resource_kind || ':' || {row}.resource_id",)),
    Raised("interpreter_release", ("'interpreter:' || {row}.interpreter_id", "'site:' || {row}.site_id")),
    Raised("availability_rule", ("'rules'", "'staff:' || {row}.staff_id", "'site:' || {row}.site_id",
                                 "'interpreter:' || {row}.interpreter_id")),
    Raised("rule_service", ("'rules'", "'service:' || {row}.service_id")),
    Raised("opening", ("'rules'", "'staff:' || {row}.staff_id", "'site:' || {row}.site_id")),
    Raised("absence", ("'rules'", "'staff:' || {row}.staff_id", "'interpreter:' || {row}.interpreter_id")),
    Raised("closure", ("'rules'", "'site:' || {row}.site_id")),
    Raised("staff", ("'rules'", "'staff:' || {row}.id")),
    Raised("interpreter", ("'rules'", "'interpreter:' || {row}.id")),
    Raised("site", ("'rules'", "'catalogue'", "'site:' || {row}.id")),
    Raised("service", ("'rules'", "'catalogue'", "'service:' || {row}.id")),
    # A family's reference is in every feed that shows its appointments; nothing else of it is.
    Raised("family", ("'catalogue'",), columns=("reference",), changed="reference", events="U"),
    # A feed's own row: its token look-ups are cached by its owner's counter (not when it was
    # last fetched: that is bookkeeping, and creating a feed changes no other feed).
    Raised("feed", ("{row}.owner_kind || ':' || {row}.owner_id",),
           columns=("revoked_at", "privacy", "owner_kind", "owner_id", "token_hash"), events="UD"),
)

SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
POSTGRES_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
EVENTS = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}


def _rows(event: str) -> tuple[str, ...]:
    return {"I": ("NEW",), "U": ("NEW", "OLD"), "D": ("OLD",)}[event]


def _sqlite_trigger(raised: Raised, event: str) -> str:
    selects = [f"SELECT {key.format(row=row)} AS key" for row in _rows(event) for key in raised.keys]
    selects += [query.format(row=row) for row in _rows(event) for query in raised.queries]
    when = EVENTS[event]
    if event == "U" and raised.columns:
        when += " OF " + ", ".join(f'"{column}"' for column in raised.columns)
    condition = f" WHEN OLD.{raised.changed} IS NOT NEW.{raised.changed}" if raised.changed else ""
    return (
        f"CREATE TRIGGER change_counter_{raised.table}_{EVENTS[event].lower()} AFTER {when} "
        f"ON \"{raised.table}\"{condition} BEGIN "
        f"INSERT INTO change_counter (key, seq, changed_ms) SELECT key, 1, {SQLITE_NOW_MS} "
        f"FROM ({' UNION '.join(selects)}) WHERE key IS NOT NULL "
        "ON CONFLICT (key) DO UPDATE SET seq = seq + 1, changed_ms = excluded.changed_ms; END"
    )


def _postgres_function(raised: Raised) -> str:
    def gather(row: str) -> str:
        keys = ", ".join(key.format(row=row) for key in raised.keys)
        gathered = f"keys := keys || ARRAY[{keys}]::text[];"
        for query in raised.queries:
            gathered += f" keys := keys || ARRAY({query.format(row=row)})::text[];"
        return gathered

    return f"""
CREATE OR REPLACE FUNCTION change_counter_{raised.table}() RETURNS trigger AS $$
DECLARE
    keys text[] := '{{}}';
    now_ms bigint := {POSTGRES_NOW_MS};
BEGIN
    IF TG_OP <> 'DELETE' THEN {gather('NEW')} END IF;
    IF TG_OP <> 'INSERT' THEN {gather('OLD')} END IF;
    -- Each key once (one command may not update a row twice), in key order, so that two
    -- transactions raising the same counters lock them in the same order.
    INSERT INTO change_counter (key, seq, changed_ms)
    SELECT raised.key, 1, now_ms
    FROM (SELECT DISTINCT key FROM unnest(keys) AS key WHERE key IS NOT NULL) AS raised ORDER BY raised.key
    ON CONFLICT (key) DO UPDATE SET seq = change_counter.seq + 1, changed_ms = excluded.changed_ms;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def _postgres_trigger(raised: Raised) -> str:
    events = []
    for event in raised.events:
        name = EVENTS[event]
        if event == "U" and raised.columns:
            name += " OF " + ", ".join(f'"{column}"' for column in raised.columns)
        events.append(name)
    condition = (f" WHEN (OLD.{raised.changed} IS DISTINCT FROM NEW.{raised.changed})"
                 if raised.changed else "")
    return (
        f"CREATE CONSTRAINT TRIGGER change_counter_{raised.table} AFTER {' OR '.join(events)} "
        f"ON \"{raised.table}\" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{condition} "
        f"EXECUTE FUNCTION change_counter_{raised.table}()"
    )


def upgrade() -> None:
    op.create_table(
        'change_counter',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('changed_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for raised in RAISED:
        if postgres:
            op.execute(_postgres_function(raised))
            op.execute(_postgres_trigger(raised))
        else:
            for event in raised.events:
                op.execute(_sqlite_trigger(raised, event))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for raised in RAISED:
        if postgres:
            op.execute(f'DROP TRIGGER IF EXISTS change_counter_{raised.table} ON "{raised.table}"')
            op.execute(f"DROP FUNCTION IF EXISTS change_counter_{raised.table}()")
        else:
            for event in raised.events:
                op.execute(f"DROP TRIGGER IF EXISTS change_counter_{raised.table}_{EVENTS[event].lower()}")
    op.drop_table('change_counter')
