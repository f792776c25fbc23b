"""Calendar feeds: create and revoke a feed URL, and serve its body by version (304 without building).

A feed's *version* comes from change counters (``scheduler.db.counters``), raised by triggers
in the transaction of every write its body depends on: its owner's counter (their
appointments, their own row, the feed's row; a pathway's sessions raise each other's owners)
and ``catalogue`` (the names and addresses of sites and services, families' references). To
those the version adds what changes with time alone or with the request: the feed's spec
(name, privacy, URL), the day its window starts, a staff feed's outcome links' fingerprint and
a site feed's marks for its coordinator (``scheduler.db.site_feed_marks``: they change when an
appointment ends with no outcome, which is time passing, not a write). The ETag is the hash of
the version: a conditional request is answered from one indexed read of two or three
counters, whatever the feed's size, and the same version always gives the same bytes, so
bodies are cached by it. A counter raised by a write that the body does not show (a booking
outside the window) changes the ETag without changing the body: the client downloads it once
more, never a stale one.

Three caches per process keep the hot paths short, each valid across processes since each is
checked against the counters that every request reads anyway:

- ``LiveFeeds``: token → live feed, with its owner's counter when it was looked up: a feed
  revoked, or its owner renamed or deleted, by any process is seen by the next request;
- ``SiteMarks`` (in ``LiveFeeds``): a site feed's marks, with the site's and ``rules``
  counters (absences and closures decide "to decide") and the next moment a mark can change
  with time;
- ``FeedBodies``: the body of each feed's current version (a warm request builds nothing),
  with each event's rendered VEVENT and the row it came from: a rebuild after one appointment
  changed re-renders that event only, and reuses the others' bytes when their rows are equal
  (compared whole, so never stale).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import counters, usage
from scheduler.db import feeds as store
from scheduler.db import site_feed_marks as site_marks
from scheduler.db.access import access_of
from scheduler.db.dialect import as_utc
from scheduler.db.engine import Database
from scheduler.db.staff_links import LINKED_PRIVACY
from scheduler.db.tables import Feed, Interpreter, Site, Staff
from scheduler.domain.errors import DomainError, InvalidInput, NotFound
from scheduler.feeds.ical import (
    FeedEvent,
    FeedSpec,
    Privacy,
    RenderedEvent,
    assemble_feed,
    group_collective,
    render_event,
)
from scheduler.ports import MonotonicClock, system_monotonic
from scheduler.services.staff_links import StaffLinks

OwnerKind = Literal["staff", "site", "interpreter"]
OWNERS: dict[str, tuple[Any, str]] = {
    "staff": (Staff, "staff member"), "site": (Site, "site"), "interpreter": (Interpreter, "interpreter"),
}

# 24 bytes = 192 random bits in the URL: far past guessing, and the stored SHA-256 of such a
# token leaks nothing to a timing probe on its index, so no slow hash or constant-time compare.
TOKEN_BYTES: Final = 24
FETCH_NOTED_EVERY_SECONDS: Final = 60.0
log = logging.getLogger(__name__)
# What a feed shows: a quarter back (recent history), a little over a year ahead (the longest
# booking horizon offered), and cancellations for 30 days so subscribed calendars remove them.
WINDOW_PAST: Final = timedelta(days=90)
WINDOW_AHEAD: Final = timedelta(days=400)
CANCELLED_KEPT: Final = timedelta(days=30)
# Part of every UID: fixed, never derived from the public URL, so a domain move keeps UIDs.
UID_DOMAIN: Final = "creneau.fr"
REFRESH: Final = timedelta(hours=1)
COLOURS: Final = ("steelblue", "seagreen", "darkorange", "mediumpurple", "teal", "indianred", "goldenrod")
# Bodies kept per process: a 2,000-event feed is ~0.8 MB, a 20,000-event one ~8 MB. The rows
# and rendered events kept with a body take RENDERS_PER_BODY_BYTE times its size (measured:
# 5.4 on SQLite, 5.9 on PostgreSQL), so the budget, in those estimated bytes, was doubled.
CACHE_BYTES: Final = 128 * 1024 * 1024
RENDERS_PER_BODY_BYTE: Final = 6
TOKEN_CACHE_ENTRIES: Final = 10_000
SITE_MARKS_ENTRIES: Final = 1_000


class FeedNotFound(NotFound):
    """An unknown or revoked feed token; one fixed message, so the two cannot be told apart."""

    def __init__(self) -> None:
        DomainError.__init__(self, "No calendar feed at this address.")


@dataclass(frozen=True, slots=True)
class CreatedFeed:
    """A new feed: its token, shown once, and its privacy level."""

    token: str
    privacy: Privacy


@dataclass(frozen=True, slots=True)
class ResolvedFeed:
    """A live feed found by its token, with its owner's display name."""

    id: str
    owner_kind: str
    owner_id: str
    privacy: Privacy
    owner_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """The appointments a feed shows, fixed for a whole UTC day so versions stay put within it."""

    start: datetime
    end: datetime
    cancelled_since: datetime

    @classmethod
    def on(cls, now: datetime) -> Window:
        """The window for the UTC day of ``now``."""
        day = datetime.combine(now.astimezone(UTC).date(), time(0), UTC)
        return cls(day - WINDOW_PAST, day + WINDOW_AHEAD, day - CANCELLED_KEPT)


@dataclass(frozen=True, slots=True)
class FeedVersion:
    """What identifies a feed's body: its strong ETag and when its content last changed."""

    etag: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class ServedFeed:
    """The answer to a feed request; ``body`` is None when the client's copy is current."""

    version: FeedVersion
    body: bytes | None
    feed: ResolvedFeed | None = None
    """The feed served (for the audit trail of full-privacy feeds)."""


# What each event of a built feed was rendered from (its privacy, UID domain and row, or its
# merged session event), with the rendering, by appointment (or session) id.
Renders = dict[str, tuple[Hashable, RenderedEvent]]


@dataclass(frozen=True, slots=True)
class _Built:
    etag: str
    body: bytes
    renders: Renders

    @property
    def weight(self) -> int:
        return len(self.body) * (1 + RENDERS_PER_BODY_BYTE)


class FeedBodies:
    """Built bodies per feed, with the events rendered for them; least recently used first out,
    bounded in (estimated) bytes.

    One entry per feed: a new version replaces the old one, which no request can ask for again,
    but its rendered events are the starting point of the next build.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._entries: OrderedDict[str, _Built] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self.builds = 0
        """Bodies built so far (cache misses), for the metrics."""

    def get(self, feed_id: str, etag: str) -> bytes | None:
        """The body of this version of the feed, if built recently."""
        entry = self._entries.get(feed_id)
        if entry is None or entry.etag != etag:
            return None
        self._entries.move_to_end(feed_id)
        return entry.body

    def renders(self, feed_id: str) -> Renders:
        """The events rendered for the feed's last built body (empty if none is kept)."""
        entry = self._entries.get(feed_id)
        return entry.renders if entry is not None else {}

    def put(self, feed_id: str, etag: str, body: bytes, renders: Renders | None = None) -> None:
        """Remember a body, evicting the least recently used ones past the byte budget."""
        self._forget(feed_id)
        entry = self._entries[feed_id] = _Built(etag, body, renders or {})
        self._bytes += entry.weight
        while self._bytes > self._max_bytes and len(self._entries) > 1:
            self._forget(next(iter(self._entries)))

    def _forget(self, feed_id: str) -> None:
        entry = self._entries.pop(feed_id, None)
        if entry is not None:
            self._bytes -= entry.weight


@dataclass(frozen=True, slots=True)
class _Lookup:
    feed: ResolvedFeed
    owner_seq: int
    """The owner's change counter when the feed was looked up."""


def version_keys(feed: ResolvedFeed) -> tuple[str, ...]:
    """The counters a feed's version reads: its owner's, ``catalogue`` and, for a site's marks, ``rules``.

    The owner's comes first (``LiveFeeds`` checks its look-ups against it).
    """
    keys: tuple[str, ...] = (counters.key(feed.owner_kind, feed.owner_id), counters.CATALOGUE)
    return (*keys, counters.RULES) if feed.owner_kind == "site" else keys


@dataclass(frozen=True, slots=True)
class _Marks:
    seqs: tuple[int, ...]
    until: datetime
    read_at: datetime
    changes_at: datetime
    marks: dict[str, str]


class SiteMarks:
    """Each site feed's marks, kept while the site's and ``rules`` counters stay as they were read
    (appointments of the site, its closures, absences) and until the next moment one of its
    appointments ends or leaves the "no outcome" week (``site_feed_marks.marks_until``)."""

    def __init__(self, max_entries: int = SITE_MARKS_ENTRIES) -> None:
        self._entries: OrderedDict[str, _Marks] = OrderedDict()
        self._max_entries = max_entries

    async def of(self, session: AsyncSession, site_id: str, seen: counters.Counters, now: datetime,
                 until: datetime) -> dict[str, str]:
        """The site's marks at ``now`` (``seen``: its feed's counters, read in this session's snapshot)."""
        seqs = (seen.seq(counters.key("site", site_id)), seen.seq(counters.RULES))
        kept = self._entries.get(site_id)
        if (kept is not None and kept.seqs == seqs and kept.until == until
                and kept.read_at <= now < kept.changes_at):
            self._entries.move_to_end(site_id)
            return kept.marks
        marks, changes_at = await site_marks.marks_until(session, site_id, now, until)
        self._entries.pop(site_id, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[site_id] = _Marks(seqs, until, now, changes_at, marks)
        return marks


class LiveFeeds:
    """Live feeds by token, each valid while its owner's change counter stays the same.

    A feed revoked, or its owner renamed or deleted, by any process raises the owner's counter
    (``scheduler.db.counters``), which each request reads anyway for the feed's version: the
    next request looks the token up again and sees it. Unknown tokens are not cached: each
    costs a query and fills nothing. ``marks`` keeps the site feeds' marks (``SiteMarks``).
    """

    def __init__(
        self,
        db: Database,
        max_entries: int = TOKEN_CACHE_ENTRIES,
        monotonic: MonotonicClock = system_monotonic,
    ) -> None:
        self._db = db
        self._monotonic = monotonic
        self._max_entries = max_entries
        self._entries: dict[str, _Lookup] = {}
        self._fetched: dict[str, float] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self.marks = SiteMarks()

    def note_fetch(self, feed_id: str, now: datetime) -> None:
        """Write the feed's ``last_fetched_at``, at most once a minute per feed and process, in a
        task of its own (the calendar never waits for it)."""
        moment = self._monotonic()
        if self._fetched.get(feed_id, float("-inf")) > moment - FETCH_NOTED_EVERY_SECONDS:
            return
        if len(self._fetched) >= self._max_entries:
            self._fetched.clear()
        self._fetched[feed_id] = moment
        task = asyncio.get_running_loop().create_task(self._write_fetch(feed_id, now))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_fetch(self, feed_id: str, now: datetime) -> None:
        try:
            async with self._db.write() as session:
                await usage.feed_fetched(session, feed_id, now)
        except Exception as exc:  # noqa: BLE001 (a missed "last fetched" must never fail a feed)
            # The error's name only: a driver's message may quote the statement's parameters.
            log.warning("could not record when a feed was last fetched (%s)", type(exc).__name__)

    async def current(self, session: AsyncSession, token: str) -> tuple[ResolvedFeed, counters.Counters]:
        """The live feed behind a token (else FeedNotFound) and the counters of its version.

        One statement when the token was looked up before and its owner's counter has not moved
        since; two otherwise. Run in a snapshot (``Database.read(snapshot=True)``), so that the
        look-up and the counters agree.
        """
        token_hash = hash_token(token)
        cached = self._entries.get(token_hash)
        if cached is not None:
            seen = await counters.read(session, version_keys(cached.feed))
            if seen.seqs[0] == cached.owner_seq:
                return cached.feed, seen
            del self._entries[token_hash]
            feed = await resolve(session, token)
            if version_keys(feed) != seen.keys:
                seen = await counters.read(session, version_keys(feed))
        else:
            feed = await resolve(session, token)
            seen = await counters.read(session, version_keys(feed))
        self._remember(token_hash, _Lookup(feed, seen.seqs[0]))
        return feed, seen

    def _remember(self, token_hash: str, lookup: _Lookup) -> None:
        self._entries.pop(token_hash, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest look-up
        self._entries[token_hash] = lookup


def new_token() -> str:
    """A fresh feed token, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession, owner_kind: OwnerKind, owner_id: str, privacy: Privacy, now: datetime
) -> CreatedFeed:
    """Create a feed of a staff member, a site or an interpreter; NotFound for an unknown owner.

    An interpreter sees only what the charter lets a professional outside the team see: the
    ``standard`` level at most.
    """
    table, noun = OWNERS[owner_kind]
    # A feed is read without a key: a key limited to some sites makes feeds of those sites only
    # (a staff member's or an interpreter's would show their appointments everywhere).
    limited = access_of(session) is not None and owner_kind != "site"
    if limited or await session.get(table, owner_id) is None:
        raise NotFound(noun, owner_id)
    if owner_kind == "interpreter" and privacy == "full":
        raise InvalidInput("An interpreter's feed shows at most the 'standard' level.")
    token = new_token()
    session.add(Feed(token_hash=hash_token(token), owner_kind=owner_kind, owner_id=owner_id,
                     privacy=privacy, created_at=now))
    await session.flush()
    return CreatedFeed(token, privacy)


async def revoke(session: AsyncSession, token: str, now: datetime) -> None:
    """Revoke a feed named by its token or its id: its URL answers 404 from now on. A revoked or
    unknown one is FeedNotFound."""
    access = access_of(session)
    sites = None if access is None else sorted(access.site_ids)
    if not await store.revoke(session, hash_token(token), now, feed_id=token, sites=sites):
        raise FeedNotFound()


async def resolve(session: AsyncSession, token: str) -> ResolvedFeed:
    """The live feed behind a token, with its owner's name, in one query; else FeedNotFound.

    Uncached: the feed endpoint goes through ``LiveFeeds``.
    """
    row = await store.live_feed(session, hash_token(token))
    if row is None or row.owner_kind not in store.OWNER_COLUMNS:
        raise FeedNotFound()
    return ResolvedFeed(
        row.id, row.owner_kind, row.owner_id, row.privacy, row.owner_name or "", row.created_at
    )


async def serve(
    session: AsyncSession, feeds: LiveFeeds, bodies: FeedBodies, token: str, public_url: str,
    if_none_match: str | None, now: datetime, links: StaffLinks | None = None,
) -> ServedFeed:
    """A feed's current version and, unless the client already holds it, its body.

    One statement answers a conditional request (the counters; the token and a site's marks
    are usually cached), a cold one adds the load, then renders only the events whose rows
    changed since the last build.
    A staff feed above ``busy`` links each appointment to its outcome page (``links``): the
    links' fingerprint is part of the version, so a new secret or address changes the ETag.
    """
    feed, seen = await feeds.current(session, token)
    feeds.note_fetch(feed.id, now)
    spec = feed_spec(feed, f"{public_url}/feeds/{token}.ics")
    window = Window.on(now)
    linker = _linker(feed, token, links)
    # A site feed's marks change with the time of day (an appointment ends with no outcome), so
    # they are part of the version; they are cached while nothing they depend on changed.
    marks = {}
    if feed.owner_kind == "site":
        marks = await feeds.marks.of(session, feed.owner_id, seen, now, window.end)
    extra = (linker.fingerprint if linker else None, tuple(sorted(marks.items())))
    version = _version(feed, spec, window, seen, extra)
    if matches(if_none_match, version.etag):
        return ServedFeed(version, None, feed)
    body = bodies.get(feed.id, version.etag)
    if body is None:
        # The version was read first: a change landing in between makes the body newer than
        # its ETag, never older, and the next request sees a new version and rebuilds.
        rows = await store.event_rows(session, _selection(feed, window))
        renders = render_events(spec, rows, bodies.renders(feed.id),
                                visit_addresses=shows_visit_addresses(feed.owner_kind, spec.privacy),
                                linker=linker, marks=marks)
        body = assemble_feed(spec, [rendered for _, rendered in renders.values()])
        bodies.builds += 1
        bodies.put(feed.id, version.etag, body, renders)
    return ServedFeed(version, body, feed)


def feed_spec(feed: ResolvedFeed, source_url: str) -> FeedSpec:
    """The calendar's identity and display: a staff feed is "<name> — créneau", a site's is its name."""
    name = feed.owner_name if feed.owner_kind == "site" else f"{feed.owner_name} — créneau"
    # The colour follows the feed, so each subscribed calendar keeps its own across rebuilds.
    colour = COLOURS[int(hashlib.sha256(feed.id.encode()).hexdigest(), 16) % len(COLOURS)]
    return FeedSpec(calendar_uid=f"feed-{feed.id}@{UID_DOMAIN}", name=name, colour=colour,
                    privacy=feed.privacy, source_url=source_url, domain=UID_DOMAIN, refresh=REFRESH)


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names this ETag (weak comparison, RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    candidates = (candidate.strip().removeprefix("W/") for candidate in if_none_match.split(","))
    return any(candidate in ("*", etag) for candidate in candidates)


def _selection(feed: ResolvedFeed, window: Window) -> store.Selection:
    return store.Selection(feed.owner_kind, feed.owner_id, window.start, window.end, window.cancelled_since)


def _version(
    feed: ResolvedFeed, spec: FeedSpec, window: Window, seen: counters.Counters, extra: Hashable = None
) -> FeedVersion:
    """Hash everything the body depends on: the owner's and ``catalogue`` counters, the spec, the
    window's day and ``extra`` (what else the body depends on: links' fingerprint, marks).

    ``rules`` (read for a site feed's marks) is left out: the marks themselves are in ``extra``.
    Last-Modified is when the latest of those counters moved (or the feed was created).
    """
    shown = seen.keys.index(counters.CATALOGUE) + 1
    digest = hashlib.sha256(repr((spec, window.start.isoformat(), extra, seen.seqs[:shown])).encode())
    changed = max(seen.changed[:shown])
    latest = datetime.fromtimestamp(changed / 1000, UTC) if changed else feed.created_at
    last_modified = max(latest, feed.created_at).astimezone(UTC).replace(microsecond=0)
    return FeedVersion(f'"{digest.hexdigest()}"', last_modified)


def shows_visit_addresses(owner_kind: str, privacy: Privacy) -> bool:
    """A home visit's address goes to its worker (a staff feed above ``busy``) and to a site's feed
    at ``full`` only: a site feed is shared more widely, an interpreter's never shows it."""
    staff_sees = owner_kind == "staff" and privacy in ("full", "standard")
    return staff_sees or (owner_kind == "site" and privacy == "full")


@dataclass(frozen=True, slots=True)
class FeedLinker:
    """Links the events of one staff feed to their outcome pages (see ``staff_links``)."""

    links: StaffLinks
    feed_id: str
    key: bytes
    fingerprint: str

    def url(self, appointment_id: str) -> str:
        """The outcome page of one appointment of this feed."""
        return self.links.url(self.feed_id, self.key, appointment_id)


def _linker(feed: ResolvedFeed, token: str, links: StaffLinks | None) -> FeedLinker | None:
    if links is None or feed.owner_kind != "staff" or feed.privacy not in LINKED_PRIVACY:
        return None
    return FeedLinker(links, feed.id, links.feed_key(hash_token(token)), links.fingerprint())


def render_events(
    spec: FeedSpec, rows: Sequence[store.EventRow], previous: Renders, *, visit_addresses: bool = False,
    linker: FeedLinker | None = None, marks: Mapping[str, str] | None = None,
) -> Renders:
    """Every row's event rendered for ``spec``; a collective session's bookings become one event.

    An event whose source (privacy, UID domain and row, or merged session) equals the one it
    was rendered from in ``previous`` keeps that rendering: the bytes depend on nothing else.
    A booking an interpreter was released from comes as a cancelled row with the appointment's
    id (never next to the appointment's own row, which the store leaves out then), so it
    replaces the rendering of the event it cancels like any other change. With a ``linker``,
    each individual appointment links to its outcome page (a collective session's bookings do
    not: their event stands for several families). ``marks`` (a site feed's, by appointment id)
    mark an individual appointment for its coordinator.
    """
    renders: Renders = {}
    collective: list[store.EventRow] = []
    fingerprint = linker.fingerprint if linker else None
    for row in rows:
        if row.capacity > 1:
            collective.append(row)
            continue
        mark = marks.get(row.id) if marks else None
        source: Hashable = (spec.privacy, spec.domain, visit_addresses, fingerprint, mark, row)
        kept = previous.get(row.id)
        if kept is None or kept[0] != source:
            url = linker.url(row.id) if linker else None
            kept = (source, _render(spec, replace(_event(row, visit_addresses, url), mark=mark)))
        renders[row.id] = kept
    for event in _sessions(collective):
        source = (spec.privacy, spec.domain, event)
        kept = previous.get(event.appointment_id)
        if kept is None or kept[0] != source:
            kept = (source, _render(spec, event))
        renders[event.appointment_id] = kept
    return renders


def _render(spec: FeedSpec, event: FeedEvent) -> RenderedEvent:
    return render_event(event, spec.privacy, spec.domain)


def _sessions(rows: Sequence[store.EventRow]) -> list[FeedEvent]:
    """One event per collective session: the bookings that share the staff member's hold.

    The session is named after its hold (and site, in case two rules put one staff member's
    service at two sites at once), which live as long as the session does: the builder's
    "smallest member id" would move the UID whenever a family whose random id sorts first
    joins or leaves.
    """
    sessions: dict[str, list[FeedEvent]] = {}
    for row in rows:
        sessions.setdefault(f"session-{row.staff_hold_id}-{row.site_id}", []).append(_event(row))
    return [replace(group_collective(members)[0], appointment_id=key) for key, members in sessions.items()]


def _event(row: store.EventRow, visit_address: bool = False, url: str | None = None) -> FeedEvent:
    return FeedEvent(
        appointment_id=row.id,
        start=as_utc(row.starts_at),
        end=as_utc(row.ends_at),
        zone=row.timezone,
        status=row.status,
        sequence=row.sequence,
        last_modified=as_utc(row.updated_at),
        service_name=row.service_name,
        site_kind=row.kind,
        site_label=row.site_name,
        site_address=row.address,
        family_reference=row.reference,
        interpreter_language=row.interpreter_language,
        note=row.note,
        visit_address=row.visit_address if visit_address else None,
        pathway_session=(row.pathway_number, row.pathway_total)
        if row.pathway_number is not None and row.pathway_total is not None else None,
        attendees=row.attendees,
        url=url,
    )
