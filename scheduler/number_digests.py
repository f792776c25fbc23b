"""A phone number's keyed digest: how a number that answered STOP is remembered without keeping it.

A phone number has little entropy (a billion French mobiles): a plain hash is reversed by trying
them all, so the digest is an HMAC under the application's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.settings import Settings

PURPOSE = b"sms-opt-out\x00"
# Without CRENEAU_SECRET_KEY (a demo, whose texts go nowhere real), a fixed key keeps the
# digests stable across restarts; a real deployment sets the key (the twilio backend requires it).
DEMO_KEY = b"creneau-demo-number-digest"


@dataclass(frozen=True, slots=True)
class NumberDigests:
    """Digests of E.164 numbers under one key."""

    key: bytes

    def of(self, e164: str) -> str:
        """The number's digest (64 hex characters)."""
        return hmac.new(self.key, PURPOSE + e164.encode(), hashlib.sha256).hexdigest()

    @classmethod
    def from_settings(cls, settings: Settings) -> NumberDigests:
        """Under the settings' secret key."""
        key = settings.secret_key.get_secret_value().encode() if settings.secret_key else DEMO_KEY
        return cls(key)
