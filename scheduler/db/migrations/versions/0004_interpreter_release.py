"""interpreter release

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

An interpreter taken off an appointment that lives on (moved to another interpreter, or to an
agency's) is recorded with the booking as their feed showed it: the feed shows it cancelled
for 30 days instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interpreter_release',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('appointment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('interpreter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_hold_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('released_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interpreter_id'], ['interpreter.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_hold_id'], ['hold.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appointment_id', 'interpreter_id', name='uq_interpreter_release')
    )
    with op.batch_alter_table('interpreter_release', schema=None) as batch_op:
        batch_op.create_index(
            "ix_interpreter_release_interpreter", ["interpreter_id", "released_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('interpreter_release', schema=None) as batch_op:
        batch_op.drop_index('ix_interpreter_release_interpreter')

    op.drop_table('interpreter_release')
