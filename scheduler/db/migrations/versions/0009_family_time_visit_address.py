"""family time and visit address

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-05

A family cannot be in two places at once: the database refuses two active (booked or
confirmed) appointments of one family that overlap in time, as it refuses overlapping holds of
one resource (an exclusion constraint on PostgreSQL, BEFORE INSERT/UPDATE triggers on SQLite).
A home visit keeps the family's address on the appointment (``visit_address``).

An existing database holding two overlapping active appointments of one family cannot take the
constraint: the upgrade then fails, naming it, and those appointments must be settled first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "('booked', 'confirmed')"
# SQLite stores UTC text of one fixed format, so text comparison orders instants.
_SQLITE_FAMILY_OVERLAP = f"""
    NEW.status IN {ACTIVE} AND EXISTS (
        SELECT 1 FROM appointment AS other
        WHERE other.family_id = NEW.family_id AND other.id <> NEW.id AND other.status IN {ACTIVE}
          AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
"""


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_address', sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Autogenerate cannot express this: written by hand, PostgreSQL only (btree_gist gives
        # the gist index its "=" on text; migration 0001 created it already).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointment ADD CONSTRAINT appointment_family_no_overlap EXCLUDE USING gist "
            f"(family_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (status IN {ACTIVE})"
        )
        return
    for action, when in (("INSERT", "INSERT"), ("UPDATE", "UPDATE OF status, starts_at, ends_at, family_id")):
        op.execute(
            f"CREATE TRIGGER appointment_family_no_overlap_{action.lower()} BEFORE {when} ON appointment "
            f"WHEN {_SQLITE_FAMILY_OVERLAP} BEGIN SELECT RAISE(ABORT, 'appointment_family_no_overlap'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT IF EXISTS appointment_family_no_overlap")
    else:
        op.execute("DROP TRIGGER IF EXISTS appointment_family_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS appointment_family_no_overlap_update")
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('visit_address')
