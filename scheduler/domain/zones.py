"""Time zones the service defaults to: sites and staff are in mainland France unless told otherwise."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Paris"
PARIS = ZoneInfo(DEFAULT_TIMEZONE)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name, built once per process."""
    return ZoneInfo(name)
