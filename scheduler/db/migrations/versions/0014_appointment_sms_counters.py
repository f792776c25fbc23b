"""appointment sms counters

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

The appointment figures count the SMS sent about each appointment and their segments. Joining a
year's outbox (320,000 messages in a département) to its appointments was most of the report's
time, so each appointment now keeps its two counts, raised when a message is recorded as sent.
They are filled here from the messages already sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENT_ABOUT_IT = "FROM outbox_message m WHERE m.appointment_id = appointment.id AND m.sent_at IS NOT NULL"
BACKFILL = f"""
UPDATE appointment SET
    sms_sent = (SELECT count(*) {SENT_ABOUT_IT}),
    sms_segments = (SELECT coalesce(sum(m.segments), 0) {SENT_ABOUT_IT})
WHERE id IN (SELECT appointment_id FROM outbox_message WHERE sent_at IS NOT NULL)
"""


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_sent', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sms_segments', sa.Integer(), server_default='0', nullable=False))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('sms_segments')
        batch_op.drop_column('sms_sent')
