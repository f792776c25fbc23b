"""a function that takes a place on the first free block of several resources (PostgreSQL)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

A booking on PostgreSQL takes its place, writes the family and inserts the appointment in one
statement (``scheduler.db.new_booking``). Taking a place is two commands that a single statement's
data-modifying CTEs cannot chain (they all see the same snapshot, so the UPDATE would not see the
block the INSERT just made): ``creneau_take_place`` runs them in turn, for each candidate resource
in the order given, and answers the first one it could take, as ``scheduler.db.holds.acquire`` does
from Python. A candidate refused by the overlap guard (``hold_no_overlap``) is skipped, inside a
subtransaction of its own, as ``holds.try_acquire``'s savepoint skips it.

``rules_seen``: the ``rules`` change counter (migration 0016) as the caller last read it, when it
chose its candidates from rules it keeps in memory; if the counter has moved since, nothing is
taken. Either way the function answers one row: the candidate taken (``place``, from 1) and its
hold, or nulls, and the counter as it read it (``rules``).

SQLite has no such functions; its writers run inline without a round trip (``sqlite_driver``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAKE_PLACE = """
CREATE FUNCTION creneau_take_place(
    resource_ids varchar[], hold_ids varchar[], kind varchar, service varchar,
    starts timestamptz, ends timestamptz, places integer, rules_seen bigint
) RETURNS TABLE (place integer, hold_id varchar, rules bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    taken_id varchar;
BEGIN
    rules := coalesce((SELECT change_counter.seq FROM change_counter WHERE change_counter.key = 'rules'), 0);
    IF rules_seen IS NOT NULL AND rules <> rules_seen THEN
        RETURN NEXT;  -- the caller's rules are out of date: nothing taken
        RETURN;
    END IF;
    FOR n IN 1 .. coalesce(array_length(resource_ids, 1), 0) LOOP
        BEGIN
            -- A new block holds no place, so it is outside the overlap guard: two bookings
            -- inserting it at once do not wait on each other's exclusion check; the UPDATE's
            -- row lock orders them.
            INSERT INTO hold (id, resource_id, resource_kind, service_id, starts_at, ends_at, capacity, taken)
            VALUES (hold_ids[n], resource_ids[n], kind, service, starts, ends, places, 0)
            ON CONFLICT (resource_id, service_id, starts_at) DO NOTHING;
            UPDATE hold SET taken = hold.taken + 1
            WHERE hold.resource_id = resource_ids[n] AND hold.service_id = service
              AND hold.starts_at = starts AND hold.ends_at = ends AND hold.taken < hold.capacity
            RETURNING hold.id INTO taken_id;
            IF taken_id IS NOT NULL THEN
                place := n;
                hold_id := taken_id;
                RETURN NEXT;
                RETURN;
            END IF;
        EXCEPTION WHEN exclusion_violation THEN
            NULL;  -- another block of this resource overlaps: the next candidate
        END;
    END LOOP;
    RETURN NEXT;  -- no candidate had a place free
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_PLACE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS creneau_take_place(varchar[], varchar[], varchar, varchar, "
                   "timestamptz, timestamptz, integer, bigint)")
