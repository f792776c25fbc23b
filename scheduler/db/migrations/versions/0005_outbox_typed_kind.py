"""outbox typed kind

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A message says what it is in three typed columns (its event, a reminder's lead time, the
appointment's sequence it was queued at) instead of a string to take apart: the columns are
filled from the ``kind`` of the messages already queued. ``kind`` stays, written from the three
columns, as the name staff see and the key that keeps a message from being queued twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds written so far: booked, moved@3, cancelled, reminder-2880@0, reminder-morning@1.
_KIND = re.compile(r"^(?P<event>[a-z]+)(?:-(?P<offset>\d+|morning))?(?:@(?P<sequence>\d+))?$")


def upgrade() -> None:
    # Added in place (no table rebuild on SQLite); the empty default only lets existing rows be
    # added a NOT NULL column before the backfill below gives each its event.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('offset_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=True))
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('outbox_message', 'event', server_default=None)


def _backfill() -> None:
    bind = op.get_bind()
    kinds = bind.execute(sa.text("SELECT DISTINCT kind FROM outbox_message")).scalars().all()
    rows = [_typed(kind) for kind in kinds]
    if rows:
        bind.execute(sa.text("UPDATE outbox_message SET event = :event, offset_minutes = :offset, "
                             "sequence = :sequence WHERE kind = :kind"), rows)


def _typed(kind: str) -> dict[str, object]:
    found = _KIND.match(kind)
    if found is None:
        raise ValueError(f"an outbox message of an unknown kind: {kind!r}")
    offset, sequence = found["offset"], found["sequence"]
    return {"kind": kind, "event": found["event"],
            "offset": int(offset) if offset and offset != "morning" else None,
            "sequence": int(sequence) if sequence is not None else None}


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('sequence')
        batch_op.drop_column('offset_minutes')
        batch_op.drop_column('event')
