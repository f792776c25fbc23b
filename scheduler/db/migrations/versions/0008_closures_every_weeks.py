"""closures and rules every n weeks

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-05

A site can be closed for a time (a strike, an election) without marking anyone absent, and a
weekly rule may repeat every 2, 3 or 4 weeks (counted from its ``valid_from``'s week): the
rules already stored repeat every week.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('closure',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('"end" > start', name='closure_ends_after_start'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.create_index('ix_closure_site_end', ['site_id', 'end'], unique=False)
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('every_weeks', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_check_constraint('rule_every_weeks_range', 'every_weeks BETWEEN 1 AND 4')
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('availability_rule', 'every_weeks', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.drop_constraint('rule_every_weeks_range', type_='check')
        batch_op.drop_column('every_weeks')
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_index('ix_closure_site_end')
    op.drop_table('closure')
