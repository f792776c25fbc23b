"""waiting list

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

Families wait for a time of a service, or for an earlier time than their appointment; offers
are texted one family at a time per freed slot, and the first acceptance books it. A service
may let families move to any of its staff members from their page.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sqlmodel.sql.sqltypes.AutoString(length=32)
WHEN = sqlmodel.sql.sqltypes.UTCDateTime()


def upgrade() -> None:
    # ADD COLUMN in place, not a batch copy of the table (dropping ``service`` to copy it would break
    # the foreign keys of the tables that refer to it on SQLite).
    op.add_column('service', sa.Column('rebook_any_staff', sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.create_table(
        'waitlist_entry',
        sa.Column('id', ID, nullable=False),
        sa.Column('service_id', ID, nullable=False),
        sa.Column('site_id', ID, nullable=True),
        sa.Column('staff_id', ID, nullable=True),
        sa.Column('family_id', ID, nullable=False),
        sa.Column('appointment_id', ID, nullable=True),
        sa.Column('earliest', WHEN, nullable=True),
        sa.Column('latest', WHEN, nullable=True),
        sa.Column('arrival', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('offers_sent', sa.Integer(), nullable=False),
        sa.Column('offers_ignored', sa.Integer(), nullable=False),
        sa.Column('last_offered_at', WHEN, nullable=True),
        sa.Column('booked_appointment_id', ID, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('updated_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['family_id'], ['family.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_waitlist_entry_family_id', 'waitlist_entry', ['family_id'], unique=False)
    op.create_index('ix_waitlist_entry_service_status', 'waitlist_entry',
                    ['service_id', 'status', 'arrival'], unique=False)
    op.create_table(
        'waitlist_offer',
        sa.Column('id', ID, nullable=False),
        sa.Column('entry_id', ID, nullable=False),
        sa.Column('service_id', ID, nullable=False),
        sa.Column('staff_id', ID, nullable=False),
        sa.Column('site_id', ID, nullable=False),
        sa.Column('starts_at', WHEN, nullable=False),
        sa.Column('ends_at', WHEN, nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('expires_at', WHEN, nullable=False),
        sa.Column('appointment_id', ID, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('decided_at', WHEN, nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entry.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_waitlist_offer_entry_id', 'waitlist_offer', ['entry_id'], unique=False)
    op.create_index('ix_waitlist_offer_appointment_id', 'waitlist_offer', ['appointment_id'], unique=False)
    op.create_index('ix_waitlist_offer_status_expires', 'waitlist_offer', ['status', 'expires_at'],
                    unique=False)
    op.create_index('ix_waitlist_offer_slot', 'waitlist_offer', ['service_id', 'staff_id', 'starts_at'],
                    unique=False)
    op.create_table(
        'waitlist_wake',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', WHEN, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('waitlist_wake')
    op.drop_index('ix_waitlist_offer_slot', table_name='waitlist_offer')
    op.drop_index('ix_waitlist_offer_status_expires', table_name='waitlist_offer')
    op.drop_index('ix_waitlist_offer_appointment_id', table_name='waitlist_offer')
    op.drop_index('ix_waitlist_offer_entry_id', table_name='waitlist_offer')
    op.drop_table('waitlist_offer')
    op.drop_index('ix_waitlist_entry_service_status', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_family_id', table_name='waitlist_entry')
    op.drop_table('waitlist_entry')
    # In place too (SQLite 3.35+ drops a plain column without copying the table).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE service DROP COLUMN rebook_any_staff')
    else:
        op.drop_column('service', 'rebook_any_staff')
