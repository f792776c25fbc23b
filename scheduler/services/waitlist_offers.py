"""Offers from the waiting list: the offer job's rounds, a family accepting, and what its page shows.

A round (``offer_round``, run by the dispatcher's APScheduler tick) lapses the offers past their
time, then, when woken by a freed slot or at its sweep, gives each free time to the first waiting
families it fits, in order of arrival, within the offer hours. Each offer and its SMS are written
in one transaction with the outbox, which the dispatcher sends exactly once: a crash between the
two loses nothing and texts nobody twice. Accepting books the time as the API books it; the hold
rows decide between two families accepting the same time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from scheduler.db import waitlist as store
from scheduler.db.tables import new_id
from scheduler.db.waitlist_tables import WaitlistEntry, WaitlistOffer
from scheduler.domain import waitlist as rules
from scheduler.domain.errors import FamilyBusy, SlotUnavailable
from scheduler.domain.events import FAMILY, SYSTEM, WAITLIST_CLAIMED, WAITLIST_OFFERED, Event
from scheduler.domain.intervals import utc
from scheduler.services import booking, events
from scheduler.services.availability import SlotQuery, find_slots
from scheduler.services.booking import BookingRequest, FamilyData
from scheduler.services.family_links import LinkMaker, token_hash, well_formed
from scheduler.services.waitlist_texts import default_catalog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from scheduler.collaborators import Collaborators
    from scheduler.ports import HolidayCalendar
    from scheduler.settings import Settings

log = logging.getLogger("creneau.waitlist")
SEARCH_DAYS = 42
SHOWN = 4


@dataclass(frozen=True, slots=True)
class OfferRules:
    """The settings a round applies."""

    minutes: float
    hours: rules.Window | None
    quiet: rules.Window | None
    parallel: int

    @classmethod
    def from_settings(cls, settings: Settings) -> OfferRules:
        """``CRENEAU_WAITLIST_*`` and the quiet hours."""
        return cls(settings.waitlist_offer_minutes, rules.Window.parse(settings.waitlist_offer_hours),
                   rules.Window.parse(settings.quiet_hours), settings.waitlist_parallel_offers)


def _links(deps: Collaborators) -> LinkMaker | None:
    issuer = deps.planner.family_links
    return None if issuer is None else issuer.links  # type: ignore[attr-defined]


async def offer_round(deps: Collaborators, *, sweep: bool) -> int:
    """One round; the number of offers made. Without ``sweep``, free times are only looked for when
    a wake-up is pending (a freed slot) or an offer lapsed (its time goes to the next family)."""
    links = _links(deps)
    if links is None:
        return 0
    now = deps.clock.now()
    settings = OfferRules.from_settings(deps.settings)
    if not sweep:
        async with deps.db.read() as session:  # the usual tick: one read, no write
            if not await store.round_due(session, now):
                return 0
    async with deps.db.write() as session:
        await store.expire_offers(session, now)
        if sweep:
            await store.expire_entries(session, now)
        woken = await store.last_wake(session)
        made = 0
        for service_id in await store.services_waiting(session):
            made += await _offer_service(deps, session, links, settings, service_id, now)
        if woken is not None:
            await store.clear_wakes(session, woken)
    if made:
        log.info("waiting list: %d offer(s) made", made)
    return made


async def _offer_service(
    deps: Collaborators, session: AsyncSession, links: LinkMaker, settings: OfferRules, service_id: str,
    now: datetime,
) -> int:
    await store.lock_service(session, service_id)  # one round at a time per service, across processes
    waiting = await store.waiting(session, service_id)
    if not waiting:
        return 0
    free, zones = await _free_times(session, deps.calendar, service_id, None, None, now)
    counts = Counter(await store.offered_slots(session, service_id))
    full = {key for key, count in counts.items() if count >= settings.parallel}
    before = await store.offered_before(session, service_id)
    made = 0
    for row in waiting:
        entry: WaitlistEntry = row.WaitlistEntry
        wish = _wish(entry, row.appointment_start)
        seen = {(staff, start) for ident, staff, start in before if ident == entry.id}
        candidate = rules.first_fitting(wish, free, full | seen)
        if candidate is None:
            continue
        zone = zones[candidate.site_id]
        if not (rules.may_offer_now(now, zone, settings.hours, settings.quiet)
                and rules.entry_may_get_offer(wish, now, zone)):
            continue
        await _offer(session, links, settings, entry, candidate, zone, row, now)
        key = (candidate.staff_id, candidate.start)
        counts[key] += 1
        if counts[key] >= settings.parallel:
            full.add(key)
        made += 1
    return made


def _wish(entry: WaitlistEntry, appointment_start: datetime | None) -> rules.Wish:
    return rules.Wish(
        entry.service_id, entry.site_id, entry.staff_id, _aware(entry.earliest), _aware(entry.latest),
        _aware(appointment_start), entry.offers_sent, _aware(entry.last_offered_at))


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


async def _free_times(
    session: AsyncSession, calendar: HolidayCalendar, service_id: str, staff_id: str | None,
    site_id: str | None, now: datetime,
) -> tuple[list[rules.FreeTime], dict[str, ZoneInfo]]:
    """The service's free times in the coming weeks, and each site's zone."""
    first = now.date()
    query = SlotQuery(service_id, first, first + timedelta(days=SEARCH_DAYS), staff_id, site_id)
    free: list[rules.FreeTime] = []
    zones: dict[str, ZoneInfo] = {}
    for slot in await find_slots(session, calendar, query, now):
        site = slot.site_id or ""
        if isinstance(slot.start.tzinfo, ZoneInfo):
            zones[site] = slot.start.tzinfo
        free.append(rules.FreeTime(slot.service_id, slot.resource_id, site, utc(slot.start), utc(slot.end)))
    return free, zones


async def _offer(
    session: AsyncSession, links: LinkMaker, settings: OfferRules, entry: WaitlistEntry,
    free: rules.FreeTime, zone: ZoneInfo, row: Any, now: datetime,
) -> None:
    """The offer, its SMS (in the outbox) and its event, in the round's transaction."""
    offer_id = new_id()
    offer = WaitlistOffer(
        id=offer_id, entry_id=entry.id, service_id=free.service_id, staff_id=free.staff_id,
        site_id=free.site_id, starts_at=free.start, ends_at=free.end,
        token_hash=token_hash(links.token(offer_id)), status="open",
        expires_at=rules.offer_expiry(now, free.start, settings.minutes), created_at=now)
    texts = default_catalog().get(row.language)
    place = await store.site_label(session, free.site_id)
    await store.add_offer(session, offer, texts.sms(free.start.astimezone(zone), place), now)
    entry.status = "offered"
    entry.offers_sent += 1
    entry.last_offered_at = now
    entry.updated_at = now
    await session.flush()
    await events.record(session, Event(WAITLIST_OFFERED, now, SYSTEM, _event_data(entry, offer, zone),
                                       site_id=free.site_id))


def _event_data(entry: WaitlistEntry, offer: WaitlistOffer, zone: ZoneInfo) -> dict[str, Any]:
    """A waiting-list event's ``data``: the entry and the offer (never the family's phone)."""
    return {
        "waitlist_entry": {"id": entry.id, "service_id": entry.service_id, "status": entry.status,
                           "appointment_id": entry.appointment_id, "offers_sent": entry.offers_sent},
        "offer": {"id": offer.id, "start": utc(offer.starts_at).astimezone(zone).isoformat(),
                  "end": utc(offer.ends_at).astimezone(zone).isoformat(), "staff_id": offer.staff_id,
                  "site_id": offer.site_id, "expires_at": utc(offer.expires_at).isoformat(),
                  "appointment_id": offer.appointment_id},
    }


Outcome = Literal["booked", "taken", "expired"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """What came of an acceptance: booked (the appointment's id), taken by another family, or too late."""

    outcome: Outcome
    appointment_id: str | None = None


async def accept(deps: Collaborators, token: str, start: datetime) -> Accepted | None:
    """The family accepts ``start`` (the offered time, or another free time its page showed after
    the offered one was taken); None when the link is unknown. Accepting twice leads to the same
    appointment; the database decides between families accepting the same time."""
    if not well_formed(token):
        return None
    now = deps.clock.now()
    try:
        async with deps.db.write() as session:
            found = await store.offer_by_token(session, token_hash(token), lock=True)
            if found is None:
                return None
            offer: WaitlistOffer = found.WaitlistOffer
            entry: WaitlistEntry = found.WaitlistEntry
            if offer.status == "claimed":
                return Accepted("booked", offer.appointment_id)
            if entry.status not in store.ACTIVE or not await store.take_offer(session, offer.id, now):
                return Accepted("expired")
            appointment_id = await _book(deps, session, entry, offer, start, now)
            await store.claimed(session, offer.id, entry.id, appointment_id, now)
            zone = ZoneInfo(found.timezone)
            await session.refresh(offer)
            await session.refresh(entry)
            await events.record(session, Event(WAITLIST_CLAIMED, now, FAMILY, _event_data(entry, offer, zone),
                                               appointment_id=appointment_id, site_id=offer.site_id))
            return Accepted("booked", appointment_id)
    except (SlotUnavailable, FamilyBusy):
        async with deps.db.write() as session:
            await store.lost(session, token_hash(token), now)
        return Accepted("taken")


async def _book(
    deps: Collaborators, session: AsyncSession, entry: WaitlistEntry, offer: WaitlistOffer, start: datetime,
    now: datetime,
) -> str:
    offered = utc(start) == utc(offer.starts_at)
    if not offered and not _fits_entry(entry, start):
        raise SlotUnavailable("That time is not one the family waits for.")
    staff_id = offer.staff_id if offered else entry.staff_id
    site_id = offer.site_id if offered else entry.site_id
    if entry.appointment_id is not None:
        moved = await booking.reschedule(session, deps.calendar, deps.planner, entry.appointment_id, start,
                                         staff_id, now, site_id, actor=FAMILY)
        return moved.id
    family = await store.family(session, entry.family_id)
    if family is None:
        raise SlotUnavailable("The family is gone.")
    request = BookingRequest(entry.service_id, start,
                             FamilyData(family.reference, family.phone, family.language, family.sms_consent),
                             staff_id, site_id)
    booked = await booking.book(session, deps.calendar, deps.planner, request, now, actor=FAMILY,
                                searches=deps.searches)
    return booked.appointment.id


def _fits_entry(entry: WaitlistEntry, start: datetime) -> bool:
    moment = utc(start)
    if entry.earliest is not None and moment < utc(entry.earliest):
        return False
    return entry.latest is None or moment < utc(entry.latest)


@dataclass(frozen=True, slots=True)
class OfferPage:
    """What an offer's page shows."""

    state: Literal["open", "taken", "expired", "booked"]
    language: str
    start: datetime
    """The offered time, in the site's zone."""
    until: datetime
    place: str
    address: str | None
    appointment_id: str | None
    other_times: list[datetime]


async def page(deps: Collaborators, token: str, *, taken: bool = False) -> OfferPage | None:
    """The offer behind a link (None: no such offer); after a lost race or a lapse, the other free
    times the family may take instead."""
    if not well_formed(token):
        return None
    now = deps.clock.now()
    async with deps.db.read() as session:
        found = await store.offer_by_token(session, token_hash(token))
        if found is None:
            return None
        offer: WaitlistOffer = found.WaitlistOffer
        entry: WaitlistEntry = found.WaitlistEntry
        zone = ZoneInfo(found.timezone)
        state = _state(offer, entry, now, taken)
        others: list[datetime] = []
        if state in ("taken", "expired") and entry.status in store.ACTIVE:
            others = await _other_times(session, deps.calendar, entry, offer, now)
    return OfferPage(state, found.language, utc(offer.starts_at).astimezone(zone),
                     utc(offer.expires_at).astimezone(zone), found.public_label, found.address,
                     offer.appointment_id, others)


def _state(offer: WaitlistOffer, entry: WaitlistEntry, now: datetime, taken: bool) -> Any:
    if offer.status == "claimed":
        return "booked"
    if taken or offer.status == "taken":
        return "taken"
    if offer.status != "open" or utc(offer.expires_at) <= utc(now) or entry.status not in store.ACTIVE:
        return "expired"
    return "open"


async def _other_times(
    session: AsyncSession, calendar: HolidayCalendar, entry: WaitlistEntry, offer: WaitlistOffer,
    now: datetime,
) -> list[datetime]:
    free, zones = await _free_times(session, calendar, entry.service_id, entry.staff_id, entry.site_id, now)
    wish = _wish(entry, await store.appointment_start(session, entry.appointment_id))
    starts: dict[datetime, datetime] = {}
    for item in free:
        if rules.fits(wish, item) and item.start != utc(offer.starts_at):
            starts.setdefault(item.start, item.start.astimezone(zones[item.site_id]))
    return [starts[key] for key in sorted(starts)][:SHOWN]
