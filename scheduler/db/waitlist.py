"""Waiting list queries: entries in arrival order, offers and their texts, and the offer job's
wake-ups. The rules are ``scheduler.domain.waitlist``'s; the use cases ``services.waitlist*``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notifications.outbox import PENDING
from scheduler.db.dialect import as_utc
from scheduler.db.outbox import TABLE as OUTBOX
from scheduler.db.tables import Appointment, Family, Service, Site, new_id
from scheduler.db.waitlist_tables import WaitlistEntry, WaitlistOffer, WaitlistWake

ACTIVE = ("waiting", "offered")
OFFER_KIND = "waitlist-offer"
"""The outbox ``kind`` of an offer's text; its ``appointment_id`` holds the offer's id."""


async def add(session: AsyncSession, entry: WaitlistEntry) -> WaitlistEntry:
    """Insert an entry at the end of the list (its ``arrival``, then its id, order the list)."""
    last = (await session.execute(select(func.max(col(WaitlistEntry.arrival))))).scalar()
    entry.arrival = int(last or 0) + 1
    session.add(entry)
    await session.flush()
    return entry


async def get(session: AsyncSession, entry_id: str, *, lock: bool = False) -> WaitlistEntry | None:
    """An entry by id (locked for the transaction when asked: PostgreSQL; SQLite is serialised)."""
    statement = select(WaitlistEntry).where(col(WaitlistEntry.id) == entry_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def positions(session: AsyncSession, entries: Sequence[WaitlistEntry]) -> dict[str, int]:
    """Each active entry's place among its service's active entries, in order of arrival (from 1)."""
    found: dict[str, int] = {}
    for entry in entries:
        if entry.status not in ACTIVE:
            continue
        ahead = select(func.count()).select_from(WaitlistEntry).where(
            col(WaitlistEntry.service_id) == entry.service_id, col(WaitlistEntry.status).in_(ACTIVE),
            tuple_(col(WaitlistEntry.arrival), col(WaitlistEntry.id)) < tuple_(entry.arrival, entry.id))
        found[entry.id] = int((await session.execute(ahead)).scalar_one()) + 1
    return found


async def page(
    session: AsyncSession, service_id: str | None, status: str | None, after: tuple[int, str] | None,
    limit: int,
) -> list[WaitlistEntry]:
    """Up to ``limit + 1`` entries in order of arrival, after a page's last (arrival, id)."""
    statement = select(WaitlistEntry).order_by(col(WaitlistEntry.arrival), col(WaitlistEntry.id))
    if service_id is not None:
        statement = statement.where(col(WaitlistEntry.service_id) == service_id)
    if status is not None:
        statement = statement.where(col(WaitlistEntry.status) == status)
    if after is not None:
        statement = statement.where(
            tuple_(col(WaitlistEntry.arrival), col(WaitlistEntry.id)) > tuple_(*after))
    return list((await session.execute(statement.limit(limit + 1))).scalars().all())


async def wake(session: AsyncSession, now: datetime) -> None:
    """A matching slot may have freed: the offer job looks at its next tick."""
    session.add(WaitlistWake(created_at=now))
    await session.flush()


async def last_wake(session: AsyncSession) -> int | None:
    """The newest wake-up's id, None when none is pending."""
    found = (await session.execute(select(func.max(col(WaitlistWake.id))))).scalar()
    return None if found is None else int(found)


async def clear_wakes(session: AsyncSession, up_to: int) -> None:
    """Forget the wake-ups a round has answered (later ones stay for the next)."""
    await session.execute(delete(WaitlistWake).where(col(WaitlistWake.id) <= up_to))


async def services_waiting(session: AsyncSession) -> list[str]:
    """The services with at least one entry waiting."""
    statement = select(col(WaitlistEntry.service_id)).where(col(WaitlistEntry.status) == "waiting").distinct()
    return sorted(str(ident) for ident in (await session.execute(statement)).scalars().all())


async def waiting(session: AsyncSession, service_id: str) -> list[Any]:
    """A service's waiting entries in order of arrival, each with its family's language and the start
    and status of the appointment it wants earlier (if any)."""
    statement: Any = (
        select(WaitlistEntry, col(Appointment.starts_at).label("appointment_start"),
               col(Appointment.status).label("appointment_status"), col(Family.language))
        .join(Family, col(Family.id) == col(WaitlistEntry.family_id))
        .outerjoin(Appointment, col(Appointment.id) == col(WaitlistEntry.appointment_id))
        .where(col(WaitlistEntry.service_id) == service_id, col(WaitlistEntry.status) == "waiting")
        .order_by(col(WaitlistEntry.arrival), col(WaitlistEntry.id))
    )
    return list((await session.execute(statement)).all())


async def offered_slots(session: AsyncSession, service_id: str) -> dict[tuple[str, datetime], int]:
    """The open offers of a service, counted per (staff member, start)."""
    statement = (
        select(col(WaitlistOffer.staff_id), col(WaitlistOffer.starts_at), func.count())
        .where(col(WaitlistOffer.service_id) == service_id, col(WaitlistOffer.status) == "open")
        .group_by(col(WaitlistOffer.staff_id), col(WaitlistOffer.starts_at))
    )
    return {(str(row[0]), row[1]): int(row[2]) for row in (await session.execute(statement)).all()}


async def add_offer(session: AsyncSession, offer: WaitlistOffer, body: str, now: datetime) -> None:
    """The offer and its text in the outbox, in the caller's transaction: both or neither."""
    session.add(offer)
    await session.flush()
    await session.execute(OUTBOX.insert().values(
        id=new_id(), appointment_id=offer.id, recipient="family", kind=OFFER_KIND, event="booked",
        body=body, status=PENDING, due_at=now, expires_at=offer.starts_at, attempts=0, needs_lookup=False,
        created_at=now, updated_at=now))


async def expire_offers(session: AsyncSession, now: datetime) -> list[WaitlistOffer]:
    """Lapse the open offers past their expiry; their entries wait again, one more offer ignored."""
    statement = (update(WaitlistOffer)
                 .where(col(WaitlistOffer.status) == "open", col(WaitlistOffer.expires_at) <= now)
                 .values(status="expired", decided_at=now)
                 .returning(WaitlistOffer))
    lapsed = list((await session.execute(statement)).scalars().all())
    for entry_id in {offer.entry_id for offer in lapsed}:
        await session.execute(
            update(WaitlistEntry)
            .where(col(WaitlistEntry.id) == entry_id, col(WaitlistEntry.status) == "offered")
            .values(status="waiting", offers_ignored=col(WaitlistEntry.offers_ignored) + 1, updated_at=now))
    return lapsed


async def expire_entries(session: AsyncSession, now: datetime) -> int:
    """Entries that can no longer be served: their range is over, or the appointment they want
    earlier is no longer to come."""
    closed_appointments = select(col(Appointment.id)).where(
        or_(col(Appointment.status).not_in(("booked", "confirmed")), col(Appointment.starts_at) <= now))
    result = await session.execute(
        update(WaitlistEntry)
        .where(col(WaitlistEntry.status) == "waiting",
               or_(col(WaitlistEntry.latest) <= now,
                   and_(col(WaitlistEntry.appointment_id).is_not(None),
                        col(WaitlistEntry.appointment_id).in_(closed_appointments))))
        .values(status="expired", updated_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


async def offer_by_token(session: AsyncSession, token_hash: str, *, lock: bool = False) -> Any:
    """An offer by its link's hash, with its entry, the family's language and the site's zone."""
    statement: Any = (
        select(WaitlistOffer, WaitlistEntry, col(Family.language), col(Site.timezone),
               col(Site.public_label), col(Site.address))
        .join(WaitlistEntry, col(WaitlistEntry.id) == col(WaitlistOffer.entry_id))
        .join(Family, col(Family.id) == col(WaitlistEntry.family_id))
        .join(Site, col(Site.id) == col(WaitlistOffer.site_id))
        .where(col(WaitlistOffer.token_hash) == token_hash)
    )
    if lock:
        statement = statement.with_for_update(of=WaitlistOffer)
    return (await session.execute(statement)).first()


async def take_offer(session: AsyncSession, offer_id: str, now: datetime) -> bool:
    """Mark an open, unexpired offer claimed: True for the one request the database lets through."""
    result = await session.execute(
        update(WaitlistOffer)
        .where(col(WaitlistOffer.id) == offer_id, col(WaitlistOffer.status).in_(("open", "taken")),
               col(WaitlistOffer.expires_at) > now)
        .values(status="claimed", decided_at=now))
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def family(session: AsyncSession, family_id: str) -> Family | None:
    """The entry's family row."""
    return await session.get(Family, family_id)


async def zone_of_site(session: AsyncSession, site_id: str) -> str | None:
    """A site's time zone name."""
    found = (await session.execute(select(col(Site.timezone)).where(col(Site.id) == site_id))).scalar()
    return None if found is None else str(found)


async def refills(session: AsyncSession, appointment_ids: Sequence[str]) -> set[str]:
    """Of these appointments, those booked (or moved) into a freed slot through an offer."""
    if not appointment_ids:
        return set()
    statement = select(col(WaitlistOffer.appointment_id)).where(
        col(WaitlistOffer.status) == "claimed", col(WaitlistOffer.appointment_id).in_(list(appointment_ids)))
    return {str(ident) for ident in (await session.execute(statement)).scalars().all()}


async def offer_messages(session: AsyncSession, message_ids: Sequence[str]) -> list[Any]:
    """For outbox messages that are offers' texts: the offer (status, start), the family (phone,
    consent, language) and the site, by message id."""
    if not message_ids:
        return []
    statement: Any = (
        select(OUTBOX.c.id, col(WaitlistOffer.status).label("offer_status"), col(WaitlistOffer.starts_at),
               col(Family.phone), col(Family.sms_consent), col(Family.language), col(Site.timezone),
               col(Site.public_label), col(Site.address), col(Site.kind), col(Site.phone).label("site_phone"))
        .join(WaitlistOffer, col(WaitlistOffer.id) == OUTBOX.c.appointment_id)
        .join(WaitlistEntry, col(WaitlistEntry.id) == col(WaitlistOffer.entry_id))
        .join(Family, col(Family.id) == col(WaitlistEntry.family_id))
        .join(Site, col(Site.id) == col(WaitlistOffer.site_id))
        .where(OUTBOX.c.id.in_(list(message_ids)), OUTBOX.c.kind == OFFER_KIND)
    )
    return list((await session.execute(statement)).all())


async def withdraw_offers(session: AsyncSession, entry_id: str, now: datetime) -> None:
    """An entry taken off the list: its open offers lapse (their texts, if not sent yet, are dropped)."""
    await session.execute(
        update(WaitlistOffer)
        .where(col(WaitlistOffer.entry_id) == entry_id, col(WaitlistOffer.status) == "open")
        .values(status="withdrawn", decided_at=now))


async def lock_service(session: AsyncSession, service_id: str) -> None:
    """Serialise the offer rounds of a service across processes (its row, locked: PostgreSQL)."""
    await session.execute(select(col(Service.id)).where(col(Service.id) == service_id).with_for_update())


async def claimed(
    session: AsyncSession, offer_id: str, entry_id: str, appointment_id: str, now: datetime
) -> None:
    """The offer booked ``appointment_id``: the family leaves the list."""
    await session.execute(update(WaitlistOffer).where(col(WaitlistOffer.id) == offer_id)
                          .values(appointment_id=appointment_id))
    await session.execute(update(WaitlistEntry).where(col(WaitlistEntry.id) == entry_id)
                          .values(status="booked", booked_appointment_id=appointment_id, updated_at=now))


async def lost(session: AsyncSession, token_hash: str, now: datetime) -> None:
    """Another family took the offered time first: the offer is lost, the family waits again."""
    offer = (await session.execute(select(WaitlistOffer).where(col(WaitlistOffer.token_hash) == token_hash)
                                   .with_for_update())).scalar_one_or_none()
    if offer is None or offer.status not in ("open", "taken"):
        return
    offer.status = "taken"
    offer.decided_at = now
    back = (col(WaitlistEntry.id) == offer.entry_id, col(WaitlistEntry.status) == "offered")
    await session.execute(update(WaitlistEntry).where(*back).values(status="waiting", updated_at=now))


async def appointment_start(session: AsyncSession, appointment_id: str | None) -> datetime | None:
    """The start of the appointment an entry wants earlier."""
    if appointment_id is None:
        return None
    found = (await session.execute(select(col(Appointment.starts_at))
                                   .where(col(Appointment.id) == appointment_id))).scalar()
    return None if found is None else as_utc(found)


async def site_label(session: AsyncSession, site_id: str) -> str:
    """A site's public label, as texts name it."""
    found = (await session.execute(select(col(Site.public_label)).where(col(Site.id) == site_id))).scalar()
    return "" if found is None else str(found)


async def round_due(session: AsyncSession, now: datetime) -> bool:
    """Whether an offer round has work: a wake-up pending, or an open offer past its time."""
    woken = select(col(WaitlistWake.id)).limit(1)
    lapsed = select(col(WaitlistOffer.id)).where(
        col(WaitlistOffer.status) == "open", col(WaitlistOffer.expires_at) <= now).limit(1)
    return (await session.execute(woken)).first() is not None or (
        await session.execute(lapsed)).first() is not None


async def offered_before(session: AsyncSession, service_id: str) -> set[tuple[str, str, datetime]]:
    """(entry, staff member, start) of every offer of the service still to come: a time an entry let
    lapse (or lost) is not offered to it again, it passes to the next family."""
    statement = select(col(WaitlistOffer.entry_id), col(WaitlistOffer.staff_id),
                       col(WaitlistOffer.starts_at)).where(col(WaitlistOffer.service_id) == service_id)
    return {(str(row[0]), str(row[1]), as_utc(row[2])) for row in (await session.execute(statement)).all()}


async def figures(session: AsyncSession) -> tuple[dict[str, int], int]:
    """Entries by status, and the offers accepted (freed slots re-booked): the metrics' figures."""
    by_status = select(col(WaitlistEntry.status), func.count()).group_by(col(WaitlistEntry.status))
    entries = {str(row[0]): int(row[1]) for row in (await session.execute(by_status)).all()}
    claimed = select(func.count()).select_from(WaitlistOffer).where(col(WaitlistOffer.status) == "claimed")
    return entries, int((await session.execute(claimed)).scalar_one())
