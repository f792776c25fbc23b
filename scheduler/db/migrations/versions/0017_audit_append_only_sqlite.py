"""audit entries append-only on SQLite too

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

Migration 0013 made ``audit_entry`` append-only on PostgreSQL (a trigger refuses every UPDATE and
every DELETE but the retention purge's); on SQLite it refused UPDATEs only. A DELETE trigger now
refuses deletes on SQLite as well, unless ``creneau_audit_purge()`` answers 1: a SQL function that
créneau registers on each of its SQLite connections (``scheduler.db.engine``) and that answers 1 only
while that connection runs the retention purge (``scheduler.db.audit.purge_older_than``). It takes
no argument, so no SQL statement can switch it on; a connection that is not créneau's (the
``sqlite3`` shell) has no such function, and its DELETE fails too.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_DELETE = """
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
WHEN NOT creneau_audit_purge()
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(NO_DELETE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
