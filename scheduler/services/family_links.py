"""The family's page link: short HMAC-derived tokens, their stored hashes, and the page's use cases.

A token is ``base62(HMAC-SHA256(secret, appointment id))[:12]`` (71 bits): the dispatcher
re-derives it whenever it writes an SMS, so it is never stored in clear; the database keeps
its SHA-256 with an expiry, which is how a request finds its appointment. The forms' CSRF
value is another HMAC of the token, so no cookie or session is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import family_links as store
from scheduler.db.tables import Appointment
from scheduler.domain.events import FAMILY
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner
from scheduler.settings import Settings

log = logging.getLogger("creneau.family_page")

ALPHABET = string.digits + string.ascii_letters
# 62**12 is about 2**71: out of reach of guessing at the page's rate limits, and 12 characters
# keep a French SMS within 2 segments with a realistic public URL (tests/unit/test_family_links.py).
TOKEN_LENGTH = 12
LINK_PURPOSE = b"family-link\x00"
FORM_PURPOSE = b"family-form\x00"


@dataclass(frozen=True, slots=True)
class LinkMaker:
    """Derives an appointment's token, its public URL, and the CSRF value of its forms."""

    secret: bytes
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkMaker:
        """The maker for ``settings``; a random secret when none is set (a single process, demo only)."""
        if settings.secret_key is None:
            log.warning("CRENEAU_SECRET_KEY is not set: family page links stop working at the next restart")
            return cls(secrets.token_bytes(32), settings.public_url)
        return cls(settings.secret_key.get_secret_value().encode(), settings.public_url)

    def token(self, appointment_id: str) -> str:
        """The appointment's token: always the same for the same secret."""
        digest = hmac.new(self.secret, LINK_PURPOSE + appointment_id.encode(), hashlib.sha256).digest()
        return _base62(int.from_bytes(digest, "big"))[:TOKEN_LENGTH]

    def url(self, appointment_id: str) -> str:
        """The short link an SMS carries."""
        return f"{self.public_url}/r/{self.token(appointment_id)}"

    def form_key(self, token: str) -> str:
        """The CSRF value the page's forms carry for this token."""
        return hmac.new(self.secret, FORM_PURPOSE + token.encode(), hashlib.sha256).hexdigest()[:32]

    def form_key_ok(self, token: str, sent: str | None) -> bool:
        """Whether a posted CSRF value is this token's (constant time)."""
        return sent is not None and hmac.compare_digest(self.form_key(token), sent)


def _base62(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(digits) or "0"


def token_hash(token: str) -> str:
    """What the database keeps of a token (a 71-bit random-looking value needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Whether a path segment can be a token at all (anything else is not looked up)."""
    return len(token) == TOKEN_LENGTH and all(char in ALPHABET for char in token)


@dataclass(frozen=True, slots=True)
class FamilyLinkIssuer:
    """Gives each booked or moved appointment its page link, valid until ``days_after`` its end.

    Booking calls it in its own transaction, before any SMS can carry the link.
    """

    links: LinkMaker
    days_after: timedelta

    async def issue(self, session: AsyncSession, appointment: Appointment, now: datetime) -> None:
        """Remember the appointment's link (again after a move: its expiry follows the new end)."""
        row = self.row(appointment, now)
        await store.remember(session, row["token_hash"], appointment.id, row["expires_at"], now)

    def row(self, appointment: Appointment, now: datetime) -> dict[str, Any]:
        """The link's row (``store.link``'s columns) for a new appointment: what ``issue`` writes."""
        return {"token_hash": token_hash(self.links.token(appointment.id)), "appointment_id": appointment.id,
                "expires_at": appointment.ends_at + self.days_after, "created_at": now}

    def url(self, appointment_id: str) -> str:
        """The appointment's short link, as the dispatcher writes it into a text."""
        return self.links.url(appointment_id)


async def find(session: AsyncSession, token: str, now: datetime) -> Any:
    """What the page of a live link shows, or None (unknown, malformed, expired or revoked alike)."""
    if not well_formed(token):
        return None
    return await store.page_row(session, token_hash(token), now)


async def confirm(session: AsyncSession, token: str, now: datetime) -> bool:
    """The family confirms; False when the link is not live. Idempotent, and a no-op once
    the appointment has started or is no longer active (the page then shows why)."""
    row = await find(session, token, now)
    if row is None:
        return False
    if row.status == "booked" and now < row.starts_at:
        await booking.confirm(session, row.id, now, actor=FAMILY)
    return True


async def cancel(session: AsyncSession, planner: MessagePlanner, token: str, now: datetime) -> bool:
    """The family cancels: the slot is freed and the notice queued by ``booking.cancel``;
    False when the link is not live. Idempotent; a no-op once the appointment has started."""
    row = await find(session, token, now)
    if row is None:
        return False
    if row.status in booking.ACTIVE and now < row.starts_at:
        await booking.cancel(session, planner, row.id, "cancelled by the family (page)", now, actor=FAMILY)
    return True
