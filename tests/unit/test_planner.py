"""Which messages a booking change queues: pure planning on a pinned clock ("now" is Monday 2026-11-30 10:00
Paris)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from notifications.compose import AppointmentFacts, compose
from notifications.outbox import Planned, kind_of
from notifications.planner import (
    Contacts,
    Subject,
    booking_notices,
    cancellation_notices,
    move_notices,
    release_notice,
    still_to_send,
)
from notifications.policy import QuietHours
from notifications.texts import default_catalog

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
QUIET = QuietHours.parse("20:00-08:00")
# Thursday 2026-12-03 at 10:00 Paris, moved twice already.
APPOINTMENT = Subject("a1", datetime(2026, 12, 3, 9, 0, tzinfo=UTC), sequence=2, interpreter_id="i1")


def _contacts(*, consent: bool = True, interpreter: str | None = "booked") -> Contacts:
    return Contacts(family_phone="+33612345678", family_consent=consent, interpreter_phone="+33698765432",
                    interpreter_status=interpreter, zone=PARIS, reminder_offsets=None)


def _shown(planned: list[Planned]) -> list[tuple[str, str, str, str | None]]:
    return [(p.recipient, p.kind, p.due_at.astimezone(PARIS).isoformat(), p.interpreter_id) for p in planned]


def test_a_booking_confirms_now_and_reminds_two_days_before_to_both_recipients() -> None:
    assert _shown(booking_notices(APPOINTMENT, _contacts(), QUIET, NOW)) == [
        ("family", "booked", "2026-11-30T10:00:00+01:00", None),
        ("family", "reminder-2880@2", "2026-12-01T10:00:00+01:00", None),
        ("interpreter", "booked", "2026-11-30T10:00:00+01:00", "i1"),
        ("interpreter", "reminder-2880@2", "2026-12-01T10:00:00+01:00", "i1"),
    ]


def test_a_family_without_consent_and_an_interpreter_not_booked_get_nothing() -> None:
    assert booking_notices(APPOINTMENT, _contacts(consent=False, interpreter="requested"), QUIET, NOW) == []


def test_a_move_tells_of_the_change_whoever_heard_of_it_and_of_the_booking_the_others() -> None:
    planned = move_notices(APPOINTMENT, _contacts(), {"family"}, QUIET, NOW)
    assert [(p.recipient, p.kind) for p in planned if p.event != "reminder"] == [
        ("family", "moved@2"), ("interpreter", "booked@2")]


def test_an_interpreter_taking_over_with_a_move_is_told_of_a_booking() -> None:
    planned = move_notices(
        APPOINTMENT, _contacts(), {"family", "interpreter"}, QUIET, NOW, new_interpreter=True
    )
    assert [(p.recipient, p.kind) for p in planned if p.event != "reminder"] == [
        ("family", "moved@2"), ("interpreter", "booked@2")]


def test_a_cancellation_reaches_only_those_who_heard_of_the_appointment() -> None:
    assert _shown(cancellation_notices(APPOINTMENT, _contacts(), {"interpreter"}, QUIET, NOW)) == [
        ("interpreter", "cancelled", "2026-11-30T10:00:00+01:00", "i1")]


def test_a_past_appointment_cancelled_tells_nobody() -> None:
    later = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert cancellation_notices(APPOINTMENT, _contacts(), {"family", "interpreter"}, QUIET, later) == []


def test_a_released_interpreter_is_told_in_the_morning_with_the_text_written_now() -> None:
    evening = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    notice = release_notice(
        APPOINTMENT, "i0", datetime(2026, 12, 2, 13, 0, tzinfo=UTC), PARIS, "Annulé", QUIET, evening
    )
    assert (notice.kind, notice.recipient, notice.interpreter_id, notice.body) == (
        "cancelled@2", "interpreter", "i0", "Annulé")
    assert notice.due_at.astimezone(PARIS).isoformat() == "2026-12-01T08:00:00+01:00"


def test_kinds_are_written_from_the_event_the_lead_time_and_the_sequence() -> None:
    assert [kind_of("booked", None, None), kind_of("moved", None, 3), kind_of("reminder", 2880, 0),
            kind_of("reminder", None, 1)] == ["booked", "moved@3", "reminder-2880@0", "reminder-morning@1"]


def test_a_home_visit_text_never_gives_the_address_and_an_interpreter_text_never_the_link() -> None:
    facts = AppointmentFacts(starts_at=APPOINTMENT.starts_at, zone=PARIS, site_label="Accueil",
                             site_address="3 rue des Lilas", site_kind="home", site_phone="01 23 45 67 89",
                             interpreter_mode="on_site")
    family = compose(default_catalog(), "booked", "family", facts, "fr", link="https://rdv.exemple.fr/r/abc")
    interpreter = compose(default_catalog(), "booked", "interpreter", facts, "ar", link="https://rdv.exemple.fr/r/abc")
    assert "3 rue des Lilas" not in family.body and "https://rdv.exemple.fr/r/abc" in family.body
    assert "https://rdv.exemple.fr/r/abc" not in interpreter.body and interpreter.language == "fr"


FACTS = AppointmentFacts(starts_at=APPOINTMENT.starts_at, zone=PARIS, site_label="Accueil", site_address=None,
                         site_kind="office", site_phone=None)


def test_a_reminder_goes_now_unless_the_appointment_closed_moved_or_started() -> None:
    queued_for = APPOINTMENT.starts_at
    assert still_to_send("reminder", "booked", queued_for, FACTS, True, QUIET, NOW) is None
    assert still_to_send("reminder", "cancelled", queued_for, FACTS, True, QUIET, NOW) == "appointment-closed"
    assert still_to_send("reminder", "booked", datetime(2026, 12, 4, 9, tzinfo=UTC), FACTS, True, QUIET,
                         NOW) == "appointment-moved"
    assert still_to_send("reminder", "booked", queued_for, FACTS, False, QUIET, NOW) == "no-consent"
    assert still_to_send("reminder", "booked", queued_for, FACTS, True, QUIET, queued_for) == "expired"


def test_a_cancellation_notice_outlives_its_appointment_and_waits_for_the_morning() -> None:
    evening = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    earlier = datetime(2026, 12, 2, 9, tzinfo=UTC)
    wait = still_to_send("cancelled", "cancelled", earlier, FACTS, True, QUIET, evening)
    assert isinstance(wait, datetime) and wait.astimezone(PARIS).isoformat() == "2026-12-01T08:00:00+01:00"
