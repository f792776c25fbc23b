"""family links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The family's page: one short link per appointment (only its token's SHA-256 is stored, with
an expiry), and what to bring, an optional public text of a service.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('family_link',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('appointment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash'),
    sa.UniqueConstraint('appointment_id')
    )
    # batch mode: SQLite cannot alter a table in place (render_as_batch in env.py); a plain
    # ALTER TABLE on PostgreSQL.
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bring', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('bring')
    op.drop_table('family_link')
