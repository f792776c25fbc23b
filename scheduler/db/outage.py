"""Whether an error means the database cannot be reached or written right now (503), not a bug (500).

The driver errors arrive wrapped by SQLAlchemy (``DBAPIError.orig``) or chained (``__cause__``),
so the whole chain is searched. An outage is: no connection (refused, reset, timed out, the
server shutting down or refusing new sessions), no free pooled connection in time, or SQLite
unable to write its file (locked past the busy timeout, read-only, I/O error, disk full).
"""

from __future__ import annotations

import errno
import socket

import asyncpg.exceptions as pg  # type: ignore[import-untyped]  # asyncpg ships no types
import sqlalchemy.exc as sa

RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait: about one connection attempt."""

_DRIVER_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted, broken pipe
    socket.gaierror,  # the host name does not resolve
    TimeoutError,  # connect timeout
    sa.TimeoutError,  # no free pooled connection in time
    sa.DisconnectionError,
    pg.PostgresConnectionError,
    pg.ConnectionDoesNotExistError,
    pg.CannotConnectNowError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
)
# Network failures asyncpg reports as a plain OSError (one per address it tried).
_NETWORK_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH,
                             errno.ETIMEDOUT})
# SQLite's messages for a file it cannot use now (sqlite3.OperationalError carries no code on
# the versions we support): the schema errors a bug would raise are not among them.
_SQLITE_OUTAGES = (
    "database is locked",
    "readonly database",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
    "database table is locked",
)


def is_database_outage(exc: BaseException) -> bool:
    """True when ``exc`` (or an error it wraps) says the database is unreachable or unwritable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _DRIVER_OUTAGES):
        return True
    message = str(exc).lower()
    if type(exc) is OSError and (exc.errno in _NETWORK_ERRNOS or "connect call failed" in message):
        return True
    if type(exc).__name__ == "InterfaceError" and "connection" in message and "closed" in message:
        return True  # asyncpg: "connection is closed" (the server went away mid-session)
    return type(exc).__name__ == "OperationalError" and any(text in message for text in _SQLITE_OUTAGES)
