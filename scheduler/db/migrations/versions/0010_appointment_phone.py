"""appointment phone

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-05

An appointment keeps the number it was booked with: its texts go there, and a booking with
another number no longer redirects the family's other appointments. Appointments booked
before have none and are texted at the family's number, as they were. A number that answered
STOP is kept (as a keyed hash) in ``sms_opt_out`` and never texted again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sms_opt_out',
        sa.Column('number_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('stopped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('number_digest'),
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        # A reply finds the appointments behind its number.
        batch_op.create_index(batch_op.f('ix_appointment_phone'), ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_phone'))
        batch_op.drop_column('phone')
    op.drop_table('sms_opt_out')
