"""outbox interpreter

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

An interpreter's message names the interpreter it is for: when a move or an agency takes an
appointment from one interpreter, that interpreter's cancellation still reaches them, and not
the one who took over.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot alter a table in place (render_as_batch in env.py).
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interpreter_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('interpreter_id')
