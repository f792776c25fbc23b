"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23

Besides the tables, the database itself forbids overlapping blocking holds of one resource:
an exclusion constraint on PostgreSQL, BEFORE INSERT/UPDATE triggers on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('family',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('last_appointment_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    op.create_table('feed',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('privacy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_owner_id'), ['owner_id'], unique=False)

    op.create_table('hold',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('resource_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name='hold_ends_after_start'),
    sa.CheckConstraint('taken >= 0 AND taken <= capacity', name='hold_taken_within_capacity'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resource_id', 'service_id', 'starts_at', name='uq_hold_block')
    )
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.create_index('ix_hold_resource_time', ['resource_id', 'starts_at', 'ends_at'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('api_key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('api_key_id', 'key', name='uq_idempotency_key')
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_record_created_at'), ['created_at'], unique=False)

    op.create_table('inbound_message',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('appointment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_id')
    )
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_message_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(batch_op.f('ix_inbound_message_family_id'), ['family_id'], unique=False)

    op.create_table('interpreter',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('outbox_message',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('appointment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('needs_lookup', sa.Boolean(), nullable=False),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('to_masked', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('encoding', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('provider_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('error_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('error_detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appointment_id', 'recipient', 'kind', name='uq_outbox_once')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(batch_op.f('ix_outbox_message_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_outbox_status_due', ['status', 'due_at'], unique=False)

    op.create_table('service',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('reminder_offsets_minutes', sa.JSON(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('capacity >= 1', name='service_capacity_positive'),
    sa.CheckConstraint('duration_minutes > 0', name='service_duration_positive'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('site',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('school_zone', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('public_label', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('holiday_region', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('staff',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('absence',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('interpreter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('"end" > start', name='absence_ends_after_start'),
    sa.CheckConstraint('(staff_id IS NULL) <> (interpreter_id IS NULL)', name='absence_of_one_resource'),
    sa.ForeignKeyConstraint(['interpreter_id'], ['interpreter.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_interpreter_id'), ['interpreter_id'], unique=False)
        batch_op.create_index('ix_absence_staff_end', ['staff_id', 'end'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('staff_hold_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('interpreter_language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('interpreter_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('interpreter_hold_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('interpreter_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('interpreter_agency', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('interpreter_reference', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['family.id'], ),
    sa.ForeignKeyConstraint(['interpreter_hold_id'], ['hold.id'], ),
    sa.ForeignKeyConstraint(['interpreter_id'], ['interpreter.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['staff_hold_id'], ['hold.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_interpreter_id'), ['interpreter_id'], unique=False)
        batch_op.create_index('ix_appointment_site_start', ['site_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_staff_start', ['staff_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_start', ['starts_at'], unique=False)

    op.create_table(
        "availability_rule",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("staff_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("interpreter_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("site_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("follows_school_calendar", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(staff_id IS NOT NULL AND interpreter_id IS NULL AND site_id IS NOT NULL) OR (staff_id IS NULL AND interpreter_id IS NOT NULL)",  # noqa: E501 (one literal, clearer whole)
            name="rule_of_staff_or_interpreter",
        ),
        sa.CheckConstraint("end_time > start_time", name="rule_ends_after_start"),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="rule_weekday_range"),
        sa.ForeignKeyConstraint(
            ["interpreter_id"],
            ["interpreter.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_rule_interpreter_id"), ["interpreter_id"], unique=False
        )
        batch_op.create_index(batch_op.f('ix_availability_rule_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_rule_staff_id'), ['staff_id'], unique=False)

    op.create_table('opening',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('service_ids', sa.JSON(), nullable=False),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('"end" > start', name='opening_ends_after_start'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opening', schema=None) as batch_op:
        batch_op.create_index('ix_opening_staff_end', ['staff_id', 'end'], unique=False)

    op.create_table('rule_service',
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('service_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['availability_rule.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], ),
    sa.PrimaryKeyConstraint('rule_id', 'service_id')
    )
    with op.batch_alter_table('rule_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_service_service_id'), ['service_id'], unique=False)

    _add_overlap_guards()


def downgrade() -> None:
    _drop_overlap_guards()
    with op.batch_alter_table('rule_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_service_service_id'))

    op.drop_table('rule_service')
    with op.batch_alter_table('opening', schema=None) as batch_op:
        batch_op.drop_index('ix_opening_staff_end')

    op.drop_table('opening')
    with op.batch_alter_table('availability_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_rule_staff_id'))
        batch_op.drop_index(batch_op.f('ix_availability_rule_site_id'))
        batch_op.drop_index(batch_op.f('ix_availability_rule_interpreter_id'))

    op.drop_table('availability_rule')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_start')
        batch_op.drop_index('ix_appointment_staff_start')
        batch_op.drop_index('ix_appointment_site_start')
        batch_op.drop_index(batch_op.f('ix_appointment_interpreter_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_family_id'))

    op.drop_table('appointment')
    with op.batch_alter_table('absence', schema=None) as batch_op:
        batch_op.drop_index('ix_absence_staff_end')
        batch_op.drop_index(batch_op.f('ix_absence_interpreter_id'))

    op.drop_table('absence')
    op.drop_table('staff')
    op.drop_table('site')
    op.drop_table('service')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_due')
        batch_op.drop_index(batch_op.f('ix_outbox_message_provider_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_appointment_id'))

    op.drop_table('outbox_message')
    op.drop_table('interpreter')
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_message_family_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_message_appointment_id'))

    op.drop_table('inbound_message')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_record_created_at'))

    op.drop_table('idempotency_record')
    with op.batch_alter_table('hold', schema=None) as batch_op:
        batch_op.drop_index('ix_hold_resource_time')

    op.drop_table('hold')
    with op.batch_alter_table('feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_owner_id'))

    op.drop_table('feed')
    op.drop_table('family')
    op.drop_table('api_key')


_SQLITE_OVERLAP = """
    NEW.taken > 0 AND EXISTS (
        SELECT 1 FROM hold AS other
        WHERE other.resource_id = NEW.resource_id AND other.id <> NEW.id AND other.taken > 0
          AND other.starts_at < NEW.ends_at AND NEW.starts_at < other.ends_at)
"""


def _add_overlap_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Autogenerate cannot express this (LIBRARIES.md 3): written by hand, PostgreSQL only.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE hold ADD CONSTRAINT hold_no_overlap EXCLUDE USING gist "
            "(resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (taken > 0)"
        )
        return
    # SQLite stores UTC text of one fixed format, so text comparison orders instants.
    for action, when in (
        ("INSERT", "INSERT"),
        ("UPDATE", "UPDATE OF taken, starts_at, ends_at, resource_id"),
    ):
        op.execute(
            f"CREATE TRIGGER hold_no_overlap_{action.lower()} BEFORE {when} ON hold "
            f"WHEN {_SQLITE_OVERLAP} BEGIN SELECT RAISE(ABORT, 'hold_no_overlap'); END"
        )


def _drop_overlap_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE hold DROP CONSTRAINT IF EXISTS hold_no_overlap")
        return
    op.execute("DROP TRIGGER IF EXISTS hold_no_overlap_insert")
    op.execute("DROP TRIGGER IF EXISTS hold_no_overlap_update")
