"""access: keys limited to sites, key expiry and use, feed fetches, the audit trail

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-05

An API key may be limited to some sites (``site_ids``, null: every site), carry an expiry date,
and remembers when it was last used; a feed remembers when a calendar last fetched it. The
``audit_entry`` table records every read or change of a family's data. On PostgreSQL it is
append-only: a trigger refuses every UPDATE and TRUNCATE, and every DELETE unless the deleting
transaction set ``creneau.audit_purge`` (the retention purge does, with ``SET LOCAL``). On
SQLite a trigger refuses UPDATEs.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('creneau.audit_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        'audit_entry',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('target_kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column('target_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('appointment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('family_reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entry_family', ['family_reference', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_actor', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_appointment', ['appointment_id', 'at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry"
                   " FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")
        op.execute("CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry"
                   " FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE ON audit_entry"
                   " BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only")
    op.drop_table('audit_entry')
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.drop_column('last_fetched_at')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('site_ids')
