"""Staff outcome links: each event of a staff member's feed links to a small page for that appointment.

A link's token is ``<feed id>-<appointment id>-<mac>``, where the mac is 132 bits of
``HMAC-SHA256(feed key, appointment id)`` and the feed key is itself
``HMAC-SHA256(server secret, feed's token hash)``. So a link needs no table, is bound to one feed
and one appointment, cannot be forged from the database alone (the server secret is not in it),
and stops working once its feed is revoked (only a live feed's key is ever derived), its privacy
drops to ``busy``, or the appointment is no longer that staff member's. The forms' CSRF value is
another HMAC of the token, so no cookie or session is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from scheduler.db import staff_links as store
from scheduler.domain.events import Actor
from scheduler.domain.intervals import utc
from scheduler.services import booking

if TYPE_CHECKING:
    from scheduler.collaborators import Collaborators

KEY_PURPOSE: Final = b"staff-link-key\x00"
LINK_PURPOSE: Final = b"staff-link\x00"
FORM_PURPOSE: Final = b"staff-form\x00"
# 22 URL-safe base64 characters: 132 bits, past guessing at the page's rate limits.
MAC_LENGTH: Final = 22
PATH: Final = "/s"
# Two uuid4 hex ids and the mac; nothing else is looked up.
_WELL_FORMED: Final = re.compile(r"([0-9a-f]{32})-([0-9a-f]{32})-([A-Za-z0-9_-]{22})")
REASON_MAX: Final = 500

Outcome = Literal["attended", "no_show"]


@dataclass(frozen=True, slots=True)
class LinkParts:
    """What a well-formed token names: a feed, an appointment, and the mac binding them."""

    feed_id: str
    appointment_id: str
    mac: str


@dataclass(frozen=True, slots=True)
class StaffLinks:
    """Derives the staff links of a feed and the CSRF value of their pages' forms."""

    secret: bytes
    public_url: str

    def feed_key(self, feed_token_hash: str) -> bytes:
        """The per-feed key: known only to a server holding the secret, for a feed's stored hash."""
        return hmac.new(self.secret, KEY_PURPOSE + feed_token_hash.encode(), hashlib.sha256).digest()

    def fingerprint(self) -> str:
        """What identifies this maker's links in a feed's version (its ETag): secret and address."""
        digest = hmac.new(self.secret, b"staff-link-version\x00" + self.public_url.encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def token(self, feed_id: str, feed_key: bytes, appointment_id: str) -> str:
        """The appointment's link token in this feed."""
        return f"{feed_id}-{appointment_id}-{mac(feed_key, appointment_id)}"

    def url(self, feed_id: str, feed_key: bytes, appointment_id: str) -> str:
        """The link an event of the staff feed carries."""
        return f"{self.public_url}{PATH}/{self.token(feed_id, feed_key, appointment_id)}"

    def form_key(self, token: str) -> str:
        """The CSRF value the page's forms carry for this token."""
        return hmac.new(self.secret, FORM_PURPOSE + token.encode(), hashlib.sha256).hexdigest()[:32]

    def form_key_ok(self, token: str, sent: str | None) -> bool:
        """Whether a posted CSRF value is this token's (constant time)."""
        return sent is not None and hmac.compare_digest(self.form_key(token), sent)


def mac(feed_key: bytes, appointment_id: str) -> str:
    """The part of a link binding it to the appointment, under the feed's key."""
    digest = hmac.new(feed_key, LINK_PURPOSE + appointment_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:MAC_LENGTH]


def parse(token: str) -> LinkParts | None:
    """The parts of a well-formed token, else None (then nothing is looked up)."""
    found = _WELL_FORMED.fullmatch(token)
    return LinkParts(*found.groups()) if found else None


def token_hash(token: str) -> str:
    """The key under which failures of a link are counted (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def shown(deps: Collaborators, links: StaffLinks, token: str) -> Any:
    """What the page of a live link shows, or None (malformed, forged, revoked feed alike)."""
    async with deps.db.read() as session:
        return await _find(session, links, token)


async def _find(session: Any, links: StaffLinks, token: str) -> Any:
    parts = parse(token)
    if parts is None:
        return None
    row = await store.page_row(session, parts.feed_id, parts.appointment_id)
    if row is None:
        return None
    expected = mac(links.feed_key(row.feed_token_hash), parts.appointment_id)
    return row if hmac.compare_digest(expected, parts.mac) else None


def actor(row: Any) -> Actor:
    """The staff member acting through their feed's link."""
    return Actor("staff", row.staff_id, row.staff_name)


async def record_outcome(deps: Collaborators, links: StaffLinks, token: str, outcome: Outcome) -> bool | None:
    """Record attended or no-show; None when the link is not live, False when the appointment
    cannot take an outcome (cancelled, or not started yet)."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        row = await _find(session, links, token)
        if row is None:
            return None
        if row.status == "cancelled" or utc(now) < row.starts_at:
            return False
        await booking.record_outcome(session, row.id, outcome, now, actor=actor(row))
        return True


async def cancel(deps: Collaborators, links: StaffLinks, token: str, reason: str) -> bool | None:
    """Cancel with a reason kept for staff, through ``booking.cancel`` (the family's notice, the
    event); None when the link is not live, False when the appointment is no longer active."""
    now = deps.clock.now()
    async with deps.db.write() as session:
        row = await _find(session, links, token)
        if row is None:
            return None
        if row.status == "cancelled":
            return True
        if row.status not in booking.ACTIVE:
            return False
        await booking.cancel(session, deps.planner, row.id, reason, now, actor=actor(row))
        return True
