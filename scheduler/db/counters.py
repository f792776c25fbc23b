"""Change counters: one per staff member, site, interpreter and service, plus ``rules`` and
``catalogue``, raised by triggers in the transaction of every write that a cache or feed reads.

Installed by migration 0016; what raises what (for the row before and after the write):

- an appointment (insert, delete, or an update of anything its feeds show: not its phone or
  SMS counts): ``staff:``, ``site:``, ``service:`` and ``interpreter:`` of the row, and the
  staff members, sites and interpreters of every session of its care pathway (they number
  their sessions);
- a hold: its resource (``staff:`` or ``interpreter:``);
- a released interpreter booking: ``interpreter:`` and ``site:``;
- a weekly rule, its services, an extra opening, an absence, a closure: ``rules`` and the
  staff member, site, interpreter or service named;
- a staff member's or an interpreter's row: ``rules`` and its own key; a site's or a
  service's: ``rules``, ``catalogue`` (their names and addresses are in every feed) and its
  own key; a family's reference: ``catalogue``;
- a feed's row (revoked, or any change but when it was last fetched): its owner's key.

A key never raised reads 0. Caches remember the counters they were computed at and stay valid
while one read (``read``) gives the same values: this holds across processes, since the
counters live in the database. Read the counters in the same snapshot as the data they
guard (``Database.read(snapshot=True)``), else a write landing between the two reads would
tie old data to new counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db.tables import ChangeCounter

counter = ChangeCounter.__table__  # type: ignore[attr-defined]

RULES: Final = "rules"
"""Raised by every change to rules, openings, absences, closures, and staff, site, service or
interpreter rows."""
CATALOGUE: Final = "catalogue"
"""Raised by a change to a site's or a service's row, or a family's reference: what feeds show of them."""


def key(kind: str, ident: str) -> str:
    """The counter of one staff member, site, interpreter or service (``kind`` as in a feed's owner)."""
    return f"{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class Counters:
    """Some counters as one read saw them, in the order they were asked for."""

    keys: tuple[str, ...]
    seqs: tuple[int, ...]
    changed: tuple[int, ...]
    """When each last changed (epoch milliseconds; 0: never)."""

    def seq(self, of: str) -> int:
        """One counter's value."""
        return self.seqs[self.keys.index(of)]


READ: Final = select(counter.c.key, counter.c.seq, counter.c.changed_ms).where(
    counter.c.key.in_(bindparam("keys", expanding=True)))


async def read(session: AsyncSession, keys: Sequence[str]) -> Counters:
    """The current counters of ``keys``, in one indexed statement."""
    found = {row[0]: (row[1], row[2]) for row in (await session.execute(READ, {"keys": list(keys)})).all()}
    values = [found.get(name, (0, 0)) for name in keys]
    return Counters(tuple(keys), tuple(seq for seq, _ in values), tuple(changed for _, changed in values))
