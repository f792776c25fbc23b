"""A clock the test moves by hand."""

from __future__ import annotations

from datetime import datetime, timedelta


class FixedClock:
    """Always the same instant until ``advance`` or ``set`` is called."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        """The pinned instant."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move forward by a ``timedelta(**delta)``."""
        self.current += timedelta(**delta)

    def set(self, now: datetime) -> None:
        """Jump to an instant."""
        self.current = now
