"""The outbox and its dispatcher on SQLite and PostgreSQL, on a pinned clock, with real senders."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import pytest
from sqlalchemy import select

from notifications.dispatcher import CONCURRENT_SENDS, Dispatcher
from notifications.policy import QuietHours
from notifications.segments import count_segments
from notifications.send_rate import rate_limiter
from notifications.senders.base import OutgoingSms, PermanentSmsError, SendResult, TransientSmsError
from notifications.senders.memory import InMemorySmsSender
from notifications.senders.twilio import TwilioSmsSender
from notifications.texts import MessageContext, default_catalog
from scheduler.db import events as event_store
from scheduler.db import outbox
from scheduler.db.engine import Database
from scheduler.db.outbox_store import SqlOutboxStore
from scheduler.db.tables import Family, Site
from scheduler.french_calendar import FrenchHolidayCalendar
from scheduler.services import booking
from scheduler.services.notify import MessagePlanner
from tests.fakes.fake_twilio import FakeTwilio, PlannedFailure
from tests.support import seed
from tests.support.clock import FixedClock
from tests.support.databases import DatabaseHandle

pytestmark = pytest.mark.anyio
QUIET = QuietHours.parse("20:00-08:00")
PARIS = ZoneInfo("Europe/Paris")
MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 12:00 in Paris


@pytest.fixture
async def db(database: DatabaseHandle) -> AsyncIterator[Database]:
    handle = Database.from_url(database.url)
    yield handle
    await handle.dispose()


def _dispatcher(db: Database, sender: object, clock: FixedClock, rate: float = 1000.0,
                quiet: QuietHours | None = QUIET) -> Dispatcher:
    return Dispatcher(store=SqlOutboxStore(db), sender=sender, catalog=default_catalog(),  # type: ignore[arg-type]
                      clock=clock, quiet=quiet, limiter=rate_limiter(rate), rate_per_second=rate,
                      lease=timedelta(seconds=60))


async def _book(db: Database, clock: FixedClock, prog: seed.SeededProgramme, start: str, consent: bool = True,
                phone: str = "+33612345678", reference: str = "PRE-1") -> str:
    request = booking.BookingRequest(
        prog.service_id, datetime.fromisoformat(start),
        booking.FamilyData(reference, phone, "fr", consent), staff_id=prog.staff_id)
    async with db.write() as session:
        booked = await booking.book(
            session, FrenchHolidayCalendar(), MessagePlanner(QUIET), request, clock.now()
        )
    return booked.appointment.id


async def _messages(db: Database, appointment_id: str) -> dict[str, outbox.OutboxMessage]:
    async with db.read() as session:
        return {row.kind: row for row in await outbox.for_appointment(session, appointment_id)}


async def test_booking_queues_a_confirmation_and_the_default_reminders(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db, weekday=3, start="14:00", end="17:00")
    appointment = await _book(db, clock, prog, "2026-12-02T14:00:00+01:00")
    queued = {kind: row.due_at.isoformat() for kind, row in (await _messages(db, appointment)).items()}
    assert queued == {
        "booked": "2026-11-30T11:00:00+00:00",
        "reminder-2880@0": "2026-11-30T13:00:00+00:00",
        "reminder-morning@0": "2026-12-02T07:30:00+00:00",
    }


async def test_no_consent_queues_nothing(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00", consent=False)
    assert await _messages(db, appointment) == {}


async def test_confirmation_booked_at_night_waits_for_the_morning(db: Database) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 21, 30, tzinfo=UTC))  # 22:30 in Paris
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    assert (await _messages(db, appointment))["booked"].due_at.isoformat() == "2026-12-01T07:00:00+00:00"
    sender = InMemorySmsSender()
    dispatcher = _dispatcher(db, sender, clock)
    assert (await dispatcher.run_once()).sent == 0
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert (await dispatcher.run_once()).sent == 1
    assert [message.to for message in sender.outbox] == ["+33612345678"]


async def test_a_message_is_sent_once_and_recorded(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00")
    sender = InMemorySmsSender()
    dispatcher = _dispatcher(db, sender, clock)
    assert (await dispatcher.run_once()).sent == 1
    assert (await dispatcher.run_once()).sent == 0
    booked = (await _messages(db, appointment))["booked"]
    assert (booked.status, booked.to_masked, booked.body) == (
        "sent",
        "+33 6•• ••• •78",
        sender.outbox[0].body,
    )
    assert booked.body.startswith("Rendez-vous le mercredi 2 décembre à 9h00")


async def test_withdrawn_consent_cancels_at_send_time(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00")
    async with db.write() as session:
        family = (await session.execute(select(Family).where(Family.reference == "PRE-1"))).scalar_one()
        family.sms_consent = False
    sender = InMemorySmsSender()
    assert (await _dispatcher(db, sender, clock).run_once()).cancelled == 1
    assert sender.outbox == []
    assert (await _messages(db, appointment))["booked"].error_code == "no-consent"


async def test_nothing_is_sent_after_the_appointment_started(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00")
    # Booked on Monday noon for Wednesday 09:00: two days before is already past, so only the
    # confirmation is queued; nobody sends it before the appointment starts.
    clock.set(datetime(2026, 12, 2, 8, 30, tzinfo=UTC))  # 09:30 Paris: started
    sender = InMemorySmsSender()
    await _dispatcher(db, sender, clock).run_once()
    messages = await _messages(db, appointment)
    assert {kind: (row.status, row.error_code) for kind, row in messages.items()} == {
        "booked": ("failed", "expired")
    }
    assert sender.outbox == []


async def test_a_family_text_failing_for_good_records_message_failed_without_the_number(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00")
    sender = InMemorySmsSender()
    sender.fail_next(PermanentSmsError("unreachable", code="21614"))
    assert (await _dispatcher(db, sender, clock).run_once()).failed == 1
    async with db.read() as session:
        history = await event_store.for_appointment(session, appointment)
    [failed] = [event for event in history if event.type == "message.failed"]
    assert (failed.actor_kind, failed.site_id, failed.occurred_at.replace(tzinfo=UTC)) == (
        "system", prog.site_id, MONDAY_NOON)
    assert failed.data["message"]["kind"] == "booked" and failed.data["message"]["error_code"] == "21614"
    assert "612345678" not in str(failed.data)


async def test_transient_failures_retry_with_backoff_then_send_once(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-02T09:00:00+01:00")
    sender = InMemorySmsSender()
    sender.fail_next(TransientSmsError("503", code="http-503"))
    dispatcher = _dispatcher(db, sender, clock)
    assert (await dispatcher.run_once()).retried == 1
    retry = (await _messages(db, appointment))["booked"]
    assert retry.status == "pending" and retry.needs_lookup
    assert timedelta(seconds=24) <= retry.due_at - MONDAY_NOON <= timedelta(seconds=36)
    assert (await dispatcher.run_once()).handled == 0
    clock.advance(seconds=40)
    assert (await dispatcher.run_once()).sent == 1
    assert len(sender.outbox) == 1


@pytest.mark.parametrize("still_queued", [False, True], ids=["sent_at_twilio", "still_queued_at_twilio"])
async def test_after_a_timeout_the_provider_is_asked_before_any_resend(
    db: Database, still_queued: bool
) -> None:
    """Twilio accepted the message but answered too late: the retry finds it and sends nothing,
    also while Twilio still holds it in its queue (no sent date yet)."""
    # The fake stamps messages with the real time, so this test runs on the real time too, and
    # without quiet hours: at night they would defer the message instead of sending it.
    clock = FixedClock(datetime.now(UTC))
    prog = await seed.programme(db)
    [message_id] = await seed.appointments_with_due_messages(
        db, prog, 1, clock.now() + timedelta(days=10), clock.now()
    )
    with FakeTwilio() as fake:
        if still_queued:
            fake.hold_in_queue()
        sender = TwilioSmsSender(
            fake.account_sid, fake.auth_token, "CRENEAU", api_base=fake.base_url, timeout=0.5
        )
        fake.fail_next(PlannedFailure.slow(1.5))
        dispatcher = _dispatcher(db, sender, clock, quiet=None)
        assert (await dispatcher.run_once()).retried == 1
        await anyio.sleep(1.5)  # the fake finishes accepting the message after our client gave up
        if still_queued:
            assert [(m["status"], m["date_sent"]) for m in fake.messages] == [("queued", None)]
        clock.advance(minutes=2)
        report = await dispatcher.run_once()
        await sender.aclose()
        assert (report.reconciled, report.sent) == (1, 0)
        assert len(fake.messages) == 1
    async with db.read() as session:
        row = await session.get(outbox.OutboxMessage, message_id)
    assert row is not None
    assert (row.status, row.provider_id) == ("sent", fake.messages[0]["sid"])
    if still_queued:
        assert row.provider_status == "queued"


async def test_a_crashed_claim_is_reconciled_after_its_lease(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    ids = await seed.appointments_with_due_messages(
        db, prog, 3, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )
    sender = InMemorySmsSender()
    async with db.write() as session:  # a dispatcher claims...
        claimed = await outbox.claim(session, clock.now(), timedelta(seconds=60), 10)
    assert len(claimed) == 3
    # ... hands the first message to the provider, and dies before recording anything.
    first = next(row for row in claimed if row.id == ids[0])
    dispatcher = _dispatcher(db, sender, clock)
    clock.advance(seconds=30)
    assert (await dispatcher.run_once()).handled == 0  # still leased
    clock.advance(seconds=31)
    # Render the text exactly as the dispatcher will, and have the provider accept it "before the crash".
    context = MessageContext(start=datetime(2026, 12, 9, 9, tzinfo=PARIS), site_label="Accueil",
                             site_address="1 rue de la Paix")
    body = default_catalog().render("appointment_booked", "fr", context).body
    await sender.send(OutgoingSms(to=seed.mobile(0), body=body, reference=first.id))
    report = await dispatcher.run_once()
    assert (report.reconciled, report.sent) == (1, 2)
    assert sorted(message.reference for message in sender.outbox) == sorted(ids)


async def test_two_dispatchers_never_claim_the_same_message(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    ids = await seed.appointments_with_due_messages(
        db, prog, 300, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )
    senders = [InMemorySmsSender(), InMemorySmsSender()]
    other_db = Database.from_url(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        await asyncio.gather(_dispatcher(db, senders[0], clock).run_once(),
                             _dispatcher(other_db, senders[1], clock).run_once())
    finally:
        await other_db.dispose()
    references = [message.reference for sender in senders for message in sender.outbox]
    assert sorted(references) == sorted(ids)


async def test_the_send_rate_is_respected(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    await seed.appointments_with_due_messages(db, prog, 11, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now())
    started = time.monotonic()
    assert (await _dispatcher(db, InMemorySmsSender(), clock, rate=10).run_once()).sent == 11
    assert time.monotonic() - started >= 0.95


class HookedSender(InMemorySmsSender):
    """The in-memory sender, running ``before`` each send (to wait, move the clock, call back...)."""

    def __init__(self, before: Callable[[OutgoingSms], Awaitable[None]]) -> None:
        super().__init__()
        self.before = before
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, message: OutgoingSms) -> SendResult:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.before(message)
            return await super().send(message)
        finally:
            self.in_flight -= 1


async def test_sends_stay_in_flight_and_a_slow_one_holds_back_no_other(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    ids = await seed.appointments_with_due_messages(
        db, prog, 250, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )

    async def provider_latency(message: OutgoingSms) -> None:
        await anyio.sleep(1.0 if message.reference == ids[0] else 0.005)

    sender = HookedSender(provider_latency)
    assert (await _dispatcher(db, sender, clock, rate=10_000).run_once()).sent == 250
    # More messages than one claim takes, yet none waited for the slow one: it finished last.
    assert [message.reference for message in sender.outbox][-1] == ids[0]
    assert sender.most_in_flight == CONCURRENT_SENDS


async def test_a_status_callback_ahead_of_the_recorded_outcome_is_kept(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    [message_id] = await seed.appointments_with_due_messages(
        db, prog, 1, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )

    async def delivered_at_once(message: OutgoingSms) -> None:
        # Twilio accepted the message and its "delivered" callback was handled before the
        # send returned: the dispatcher's own outcome ("queued") is older news.
        async with db.write() as session:
            await outbox.apply_provider_status(
                session, message.reference, "SM1", "delivered", None, clock.now()
            )

    assert (await _dispatcher(db, HookedSender(delivered_at_once), clock).run_once()).sent == 1
    async with db.read() as session:
        row = await session.get(outbox.OutboxMessage, message_id)
    assert row is not None
    assert (row.status, row.provider_status, row.provider_id) == ("delivered", "delivered", "SM1")
    # What the callback does not carry is still filled in.
    assert (row.segments, row.sent_at) == (count_segments(row.body or "").segments, MONDAY_NOON)


async def test_a_claim_past_half_its_lease_goes_back_to_the_queue_unsent(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    ids = await seed.appointments_with_due_messages(
        db, prog, 3, datetime(2026, 12, 9, 8, tzinfo=UTC), clock.now()
    )

    async def first_send_takes_40_seconds(message: OutgoingSms) -> None:
        if not sender.outbox:
            clock.advance(seconds=40)  # the lease is 60 s: the other two are 40 s into theirs

    sender = HookedSender(first_send_takes_40_seconds)
    dispatcher = _dispatcher(db, sender, clock)
    report = await dispatcher.run_once()
    assert (report.sent, report.deferred) == (1, 2)
    async with db.read() as session:
        rows = [await session.get(outbox.OutboxMessage, message_id) for message_id in ids]
    waiting = [
        (row.status, row.lease_until, row.attempts)
        for row in rows
        if row is not None and row.status != "sent"
    ]
    assert waiting == [("pending", None, 0), ("pending", None, 0)]
    assert (await dispatcher.run_once()).sent == 2
    assert sorted(message.reference for message in sender.outbox) == sorted(ids)


async def _claimed_by_a_dispatcher_that_dies(db: Database, clock: FixedClock) -> list[str]:
    """What a dispatcher claims just before it dies (its messages stay 'sending' until the lease lapses)."""
    async with db.write() as session:
        return [row.id for row in await outbox.claim(session, clock.now(), timedelta(seconds=60), 10)]


async def test_a_reminder_claimed_before_a_move_is_cancelled_not_sent(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db, weekday=3, start="14:00", end="17:00")
    appointment = await _book(db, clock, prog, "2026-12-02T14:00:00+01:00")
    sender = InMemorySmsSender()
    assert (await _dispatcher(db, sender, clock).run_once()).sent == 1  # the confirmation
    clock.set(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))  # the reminder two days before is due
    claimed = await _claimed_by_a_dispatcher_that_dies(db, clock)
    assert claimed == [(await _messages(db, appointment))["reminder-2880@0"].id]
    async with db.write() as session:  # the family moves to 15:00 meanwhile
        await booking.reschedule(session, FrenchHolidayCalendar(), MessagePlanner(QUIET), appointment,
                                 datetime.fromisoformat("2026-12-02T15:00:00+01:00"), None, clock.now())
    clock.advance(seconds=61)
    report = await _dispatcher(db, sender, clock).run_once()
    messages = await _messages(db, appointment)
    assert (messages["reminder-2880@0"].status, messages["reminder-2880@0"].error_code) == ("cancelled",
                                                                                            "appointment-moved")
    assert (report.cancelled, report.sent) == (1, 1)  # the old reminder goes; the move's notice is sent
    [notice] = sender.outbox[1:]
    assert notice.body.startswith("Votre rendez-vous est déplacé au mercredi 2 décembre à 15h00 : ")


async def test_a_notice_claimed_before_a_cancellation_is_cancelled_not_sent(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db, weekday=3, start="14:00", end="17:00")
    appointment = await _book(db, clock, prog, "2026-12-02T14:00:00+01:00")
    await _claimed_by_a_dispatcher_that_dies(db, clock)  # the confirmation
    async with db.write() as session:
        await booking.cancel(session, MessagePlanner(QUIET), appointment, None, clock.now())
    clock.advance(seconds=61)
    sender = InMemorySmsSender()
    report = await _dispatcher(db, sender, clock).run_once()
    messages = await _messages(db, appointment)
    assert (messages["booked"].status, messages["booked"].error_code) == ("cancelled", "appointment-closed")
    assert (report.cancelled, report.sent) == (1, 1)
    assert [message.body[:25] for message in sender.outbox] == ["Votre rendez-vous du merc"]


async def test_a_superseded_message_the_provider_took_before_a_crash_is_recorded_as_sent(
    db: Database,
) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db, weekday=3, start="14:00", end="17:00")
    appointment = await _book(db, clock, prog, "2026-12-02T14:00:00+01:00")
    sender = InMemorySmsSender()
    sender.fail_next(
        TransientSmsError("timeout", code="timeout")
    )  # Twilio took it but did not answer in time
    assert (await _dispatcher(db, sender, clock).run_once()).retried == 1
    booked = (await _messages(db, appointment))["booked"]
    assert booked.body is not None
    await sender.send(OutgoingSms(to="+33612345678", body=booked.body, reference=booked.id))
    clock.advance(seconds=40)
    await _claimed_by_a_dispatcher_that_dies(db, clock)
    async with db.write() as session:
        await booking.reschedule(session, FrenchHolidayCalendar(), MessagePlanner(QUIET), appointment,
                                 datetime.fromisoformat("2026-12-02T15:00:00+01:00"), None, clock.now())
    clock.advance(seconds=61)
    report = await _dispatcher(db, sender, clock).run_once()
    assert (report.reconciled, report.sent) == (1, 1)  # found at the provider; then the move's notice
    assert (await _messages(db, appointment))["booked"].status == "sent"
    assert len(sender.outbox) == 2


async def test_cancelled_before_its_confirmation_left_the_family_hears_nothing(db: Database) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 21, 30, tzinfo=UTC))  # 22:30 in Paris: the confirmation waits
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    async with db.write() as session:
        await booking.cancel(session, MessagePlanner(QUIET), appointment, None, clock.now())
    statuses = {kind: row.status for kind, row in (await _messages(db, appointment)).items()}
    assert statuses == {"booked": "cancelled", "reminder-2880@0": "cancelled"}
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    sender = InMemorySmsSender()
    await _dispatcher(db, sender, clock).run_once()
    assert sender.outbox == []


async def test_cancelled_after_its_confirmation_left_the_family_is_told(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    sender = InMemorySmsSender()
    assert (await _dispatcher(db, sender, clock).run_once()).sent == 1
    async with db.write() as session:
        await booking.cancel(session, MessagePlanner(QUIET), appointment, None, clock.now())
    assert (await _dispatcher(db, sender, clock).run_once()).sent == 1
    assert [message.body[:25] for message in sender.outbox] == [
        "Rendez-vous le mercredi 9",
        "Votre rendez-vous du merc",
    ]


async def test_moved_before_its_confirmation_left_the_family_is_told_of_the_booking_at_its_new_time(
    db: Database,
) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 21, 30, tzinfo=UTC))  # 22:30 in Paris: the confirmation waits
    prog = await seed.programme(db)
    appointment = await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    async with db.write() as session:
        await booking.reschedule(session, FrenchHolidayCalendar(), MessagePlanner(QUIET), appointment,
                                 datetime.fromisoformat("2026-12-09T10:00:00+01:00"), None, clock.now())
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    sender = InMemorySmsSender()
    assert (await _dispatcher(db, sender, clock).run_once()).sent == 1
    [confirmation] = sender.outbox
    assert confirmation.body.startswith("Rendez-vous le mercredi 9 décembre à 10h00")


async def test_a_booking_that_withdraws_consent_cancels_the_familys_pending_texts_at_once(
    db: Database,
) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    first = await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    second = await _book(db, clock, prog, "2026-12-09T10:00:00+01:00", consent=False)
    assert {row.status for row in (await _messages(db, first)).values()} == {"cancelled"}
    assert await _messages(db, second) == {}


async def test_the_sites_number_is_written_as_families_dial_it(db: Database) -> None:
    clock = FixedClock(MONDAY_NOON)
    prog = await seed.programme(db)
    async with db.write() as session:
        site = await session.get(Site, prog.site_id)
        assert site is not None
        site.phone = "+33143943300"  # stored in E.164, as the API keeps it
    await _book(db, clock, prog, "2026-12-09T09:00:00+01:00")
    sender = InMemorySmsSender()
    assert (await _dispatcher(db, sender, clock).run_once()).sent == 1
    assert sender.outbox[0].body.endswith(" Pour annuler, appelez le 01 43 94 33 00.")
