"""pathways

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

A care pathway: a family's course of sessions with one staff member at one site, booked as
one. Its sessions are appointments whose ``pathway_id`` (present since 0006) names it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pathway',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('interpreter_language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('close_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['family_id'], ['family.id'], ),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pathway', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pathway_family_id'), ['family_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pathway', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pathway_family_id'))
    op.drop_table('pathway')
