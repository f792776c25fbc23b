"""Pure iCalendar (RFC 5545) feed builder: appointments in, deterministic bytes out."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vDuration

Privacy = Literal["full", "standard", "busy"]

STATUSES: Final = frozenset({"booked", "confirmed", "cancelled", "attended", "no_show"})
SITE_KINDS: Final = frozenset({"office", "school", "home", "online"})
PRODID: Final = "-//créneau//flux iCalendar//FR"
HOME_VISIT_LOCATION: Final = "visite à domicile"
BUSY_SUMMARY: Final = "Occupé"
ATTENDEES: Final = {"parents": "les parents", "child": "l'enfant", "family": "les parents et l'enfant"}
"""Who is expected at a pathway's session, as the ``full`` feed's description says it."""
CANCELLED_PREFIX: Final = "(annulé) "
LINK_LABEL: Final = "Noter la venue ou annuler"
# A marked event's summary starts with its mark, and its description (above ``busy``) says why;
# neither names the family, the absent person or the closure's reason.
MARKS: Final = {
    "to_decide": ("[À décider] ", ("À décider : une absence ou une fermeture tombe sur ce rendez-vous, "
                  "qui n'est pas annulé. Annulez-le ou maintenez-le.")),
    "no_outcome": ("[Venue à noter] ", ("Venue à noter : ce rendez-vous est passé sans que la venue "
                   "de la famille soit notée.")),
}
PHONE_MASK: Final = "[numéro masqué]"

_CRLF: Final = b"\r\n"
_END_CALENDAR: Final = b"END:VCALENDAR\r\n"
_MAX_LINE_OCTETS: Final = 75
# RFC 5545 TEXT forbids control characters other than HTAB (and newlines, which we escape).
# Also dropped: C1 controls and U+2028/U+2029, which some parsers read as line ends, and
# unpaired surrogates, which cannot be encoded in UTF-8. The API refuses all of them; this
# keeps rows written by other means (or before the API refused them) from breaking a feed.
_CONTROL_CHARS: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# 9 to 15 digits with separators between them: every French (10) or E.164 (<= 15) number,
# however written (spaces of any kind, no-break ones too, ".", "-", " - ", "/", "_"). It also
# catches other long identifiers (a NIR, an IBAN run), which must not reach a calendar either.
_PHONE_LIKE: Final = re.compile(r"\+?\d(?:[\s.\-/_]{0,3}\d){8,14}")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One appointment (or one collective session) as a calendar feed shows it.

    There is deliberately no phone field: a feed never carries a phone number.
    """

    appointment_id: str
    start: datetime
    end: datetime
    zone: str
    status: str
    sequence: int
    last_modified: datetime
    service_name: str
    site_kind: str
    site_label: str
    site_address: str | None
    family_reference: str | None
    participants: int = 1
    interpreter_language: str | None = None
    note: str | None = None
    visit_address: str | None = None
    """A home visit's address, given only for a feed allowed to show it (its worker's)."""
    pathway_session: tuple[int, int] | None = None
    """A care pathway's session: its number and the pathway's count ("Séance 2/3")."""
    attendees: str | None = None
    """Who is expected (``parents``, ``child``, ``family``): shown at the ``full`` level only."""
    url: str | None = None
    """The staff member's outcome page of this appointment, given only in their own feed."""
    mark: str | None = None
    """What a site's coordinator is reminded of (``to_decide``, ``no_outcome``), in a site feed only."""

    def __post_init__(self) -> None:
        for name in ("start", "end", "last_modified"):
            if getattr(self, name).utcoffset() is None:
                raise ValueError(f"appointment {self.appointment_id}: {name} must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"appointment {self.appointment_id}: end must be after start")
        if self.status not in STATUSES:
            raise ValueError(f"appointment {self.appointment_id}: unknown status {self.status!r}")
        if self.mark is not None and self.mark not in MARKS:
            raise ValueError(f"appointment {self.appointment_id}: unknown mark {self.mark!r}")
        if self.site_kind not in SITE_KINDS:
            raise ValueError(f"appointment {self.appointment_id}: unknown site kind {self.site_kind!r}")
        if self.sequence < 0 or self.participants < 0:
            raise ValueError(f"appointment {self.appointment_id}: negative sequence or participants")
        ZoneInfo(self.zone)  # raises ZoneInfoNotFoundError for an unknown zone, at build time


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What one subscribed calendar is: its identity, display and confidentiality level."""

    calendar_uid: str
    name: str
    colour: str
    privacy: Privacy
    source_url: str | None
    domain: str
    refresh: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.privacy not in get_args(Privacy):
            raise ValueError(f"unknown privacy level {self.privacy!r}")
        if not re.fullmatch(r"[a-z]+", self.colour):
            raise ValueError(f"colour must be a CSS3 colour name, got {self.colour!r}")
        if not self.calendar_uid or not self.domain:
            raise ValueError("calendar_uid and domain must not be empty")
        if self.refresh <= timedelta(0):
            raise ValueError("refresh must be positive")


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """One event's VEVENT bytes, with what the calendar around it needs: its order, zone and span.

    Rendered once per (event, privacy, domain), it can be kept and reassembled into later
    versions of the feed: a change to one appointment then re-renders one event, not all.
    """

    appointment_id: str
    uid: str
    start: datetime
    end: datetime
    zone: str
    vevent: bytes


def build_feed(spec: FeedSpec, events: Sequence[FeedEvent]) -> bytes:
    """Serialise a calendar feed, byte-for-byte the same for the same inputs.

    The composition of :func:`render_event` and :func:`assemble_feed`, for callers that keep
    no rendered events between builds.

    Args:
        spec: the feed's identity, display name, colour and privacy level.
        events: the appointments to show, in any order.

    Returns:
        The UTF-8 iCalendar body, CRLF line endings, lines folded at 75 octets.

    Raises:
        ValueError: if two events share an appointment id (their UIDs would collide).
    """
    return assemble_feed(spec, [render_event(event, spec.privacy, spec.domain) for event in events])


def render_event(event: FeedEvent, privacy: Privacy, domain: str) -> RenderedEvent:
    """Render one event's VEVENT as the given privacy level shows it.

    The VEVENTs are written directly, because icalendar's per-event objects cost about 0.4 ms
    each. The bytes depend on nothing but the arguments, so they may be cached by them.
    """
    uid = _uid(event, domain)
    return RenderedEvent(event.appointment_id, uid, event.start, event.end, event.zone,
                         _vevent(event, privacy, uid))


def assemble_feed(spec: FeedSpec, events: Sequence[RenderedEvent]) -> bytes:
    """Put rendered events, in any order, into the calendar of ``spec``; deterministic bytes.

    The envelope (calendar properties and one bounded VTIMEZONE per zone) is built with
    icalendar; the events go in ordered by start, then UID.

    Raises:
        ValueError: if two events share an appointment id (their UIDs would collide).
    """
    ordered = sorted(events, key=lambda event: (event.start, event.uid))
    _reject_duplicate_ids(ordered)
    # icalendar always ends with END:VCALENDAR; the events go just before it.
    head, _, tail = _envelope(spec, ordered).rpartition(_END_CALENDAR)
    # One join, so one allocation of the whole body (a 20,000-event feed is ~8 MB).
    return b"".join([head, *(event.vevent for event in ordered), _END_CALENDAR, tail])


def etag_for(body: bytes) -> str:
    """Return a strong, quoted HTTP ETag for a feed body.

    Args:
        body: the bytes exactly as served.

    Returns:
        A quoted SHA-256 hex digest, e.g. ``"3f5c..."``.
    """
    return f'"{hashlib.sha256(body).hexdigest()}"'


def group_collective(events: Iterable[FeedEvent]) -> list[FeedEvent]:
    """Collapse the bookings of each collective session into one event.

    A session is identified by (start, end, service_name, site_label). Call this only with
    events of collective services: two individual appointments of different staff at the same
    site and time would otherwise be merged.

    Args:
        events: one event per booked participant.

    Returns:
        One event per session, ordered by start, whose appointment_id is
        ``session-<smallest member id>`` so its UID stays put as participants come and go.
    """
    sessions: dict[tuple[datetime, datetime, str, str], list[FeedEvent]] = {}
    for event in events:
        key = (event.start, event.end, event.service_name, event.site_label)
        sessions.setdefault(key, []).append(event)
    merged = [_merge_session(members) for members in sessions.values()]
    return sorted(merged, key=lambda event: (event.start, event.appointment_id))


def _merge_session(members: list[FeedEvent]) -> FeedEvent:
    members = sorted(members, key=_id_order)
    active = [member for member in members if member.status != "cancelled"]
    shown = active or members
    return replace(
        members[0],
        appointment_id=f"session-{members[0].appointment_id}",
        status=active[0].status if active else "cancelled",
        # Each member's own changes bump its sequence; "+ len - 1" also bumps the session's
        # when a participant joins with sequence 0, and leaves a lone booking's sequence as is.
        sequence=sum(member.sequence for member in members) + len(members) - 1,
        last_modified=max(member.last_modified for member in members),
        family_reference=None,  # a session belongs to no single family
        participants=len(active),
        interpreter_language=_distinct((member.interpreter_language for member in shown), ", "),
        note=_distinct((member.note for member in shown), "\n"),
    )


def _id_order(event: FeedEvent) -> tuple[int, str]:
    # Length first so numeric ids sort naturally ("9" before "10"); equal-length ids (UUIDs)
    # fall back to plain string order. Only stability matters, not meaning.
    return (len(event.appointment_id), event.appointment_id)


def _distinct(values: Iterable[str | None], separator: str) -> str | None:
    kept = list(dict.fromkeys(value for value in values if value))
    return separator.join(kept) if kept else None


def _reject_duplicate_ids(events: Sequence[RenderedEvent]) -> None:
    counts = Counter(event.appointment_id for event in events)
    duplicates = sorted(appointment_id for appointment_id, count in counts.items() if count > 1)
    if duplicates:
        raise ValueError(f"duplicate appointment ids in one feed: {duplicates}")


def _envelope(spec: FeedSpec, events: Sequence[RenderedEvent]) -> bytes:
    calendar = Calendar.new(
        prodid=PRODID,
        uid=spec.calendar_uid,  # without it icalendar 7 invents a random UID on every build
        color=spec.colour,
        refresh_interval=spec.refresh,
        source=spec.source_url,
    )
    # RFC 7986 types both properties explicitly; icalendar leaves VALUE= out.
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    if spec.source_url:
        calendar["SOURCE"].params["VALUE"] = "URI"
    # An X- property defaults to TEXT: give the duration as its string, not a timedelta.
    ttl = vDuration(spec.refresh).to_ical()  # type: ignore[no-untyped-call]  # untyped in icalendar 7.3
    calendar.add("X-PUBLISHED-TTL", ttl.decode("ascii"))
    for timezone in _timezones(events):
        calendar.add_component(timezone)
    envelope: bytes = calendar.to_ical()
    # The name is the owner's, typed by an administrator: it goes through the one TEXT escape
    # like every event's text. icalendar writes NAME unescaped and refuses a line feed in it.
    begin, _, rest = envelope.partition(_CRLF)
    names = [_fold(f"{prop}:{_text(spec.name)}") for prop in ("NAME", "X-WR-CALNAME")]
    return b"".join([begin, _CRLF, *names, rest])


def _timezones(events: Sequence[RenderedEvent]) -> list[Timezone]:
    if not events:
        return []
    # Whole years around the events. A day's margin on each side covers every local date,
    # since no zone is a day away from UTC. The default 1970-2038 would add ~70 onsets a zone.
    first = date((events[0].start - timedelta(days=1)).year, 1, 1)
    last = date((max(event.end for event in events) + timedelta(days=1)).year + 1, 1, 1)
    zones = sorted({event.zone for event in events})
    return [_timezone(zone, first, last) for zone in zones]


@lru_cache(maxsize=128)
def _timezone(zone: str, first: date, last: date) -> Timezone:
    """Return the zone's VTIMEZONE over [first, last) with one observance per onset.

    icalendar lists later onsets as one multi-valued RDATE per observance. ical.js 2.2.1
    (Thunderbird) then drops the DTSTART onset and reads only the first RDATE value, so a
    feed spanning two summers shows one of them an hour off. Single onsets are read alike
    by every parser, and the RFC allows any number of STANDARD/DAYLIGHT sub-components.

    Cached (so shared: never mutate the result) because icalendar 7.3 scans a zone without
    DST up to year 9999: about 17 ms per overseas zone on every feed build otherwise.
    """
    timezone = Timezone.from_tzid(zone, first_date=first, last_date=last)
    observances = [
        _observance_at(observance, onset)
        for observance in timezone.standard + timezone.daylight
        for onset in [observance.DTSTART, *(start for start, _ in observance.rdates)]
    ]
    timezone.subcomponents = sorted(observances, key=lambda observance: observance.DTSTART)
    return timezone


def _observance_at(
    observance: TimezoneStandard | TimezoneDaylight, onset: datetime
) -> TimezoneStandard | TimezoneDaylight:
    single = type(observance)()
    single.DTSTART = onset
    for name in ("TZNAME", "TZOFFSETFROM", "TZOFFSETTO"):
        if name in observance:  # TZNAME is optional
            single[name] = observance[name]
    return single


def _vevent(event: FeedEvent, privacy: Privacy, uid: str) -> bytes:
    stamp = _utc_text(event.last_modified)
    status = "CANCELLED" if event.status == "cancelled" else "CONFIRMED"
    # These lines cannot reach 75 octets (the longest IANA zone name has 32 characters), so
    # they skip the folding that only TEXT values need.
    fixed = (
        f"DTSTAMP:{stamp}\r\nLAST-MODIFIED:{stamp}\r\nSEQUENCE:{event.sequence}\r\n"
        f"DTSTART{_zoned_text(event.start, event.zone)}\r\nDTEND{_zoned_text(event.end, event.zone)}\r\n"
        f"STATUS:{status}\r\n"
    )
    texts = [f"UID:{_text(uid)}", f"SUMMARY:{_text(_summary(event, privacy))}"]
    if privacy != "busy":
        texts.append(f"LOCATION:{_text(_location(event))}")
    description = _description(event) if privacy == "full" else None
    if event.mark in MARKS and privacy != "busy":
        description = "\n".join(filter(None, [MARKS[event.mark][1], description]))
    if event.url and privacy != "busy":
        description = "\n".join(filter(None, [description, f"{LINK_LABEL} : {event.url}"]))
    if description:
        texts.append(f"DESCRIPTION:{_text(description)}")
    if event.url and privacy != "busy":
        texts.append(f"URL;VALUE=URI:{_CONTROL_CHARS.sub('', event.url)}")
    return b"BEGIN:VEVENT\r\n" + fixed.encode("ascii") + b"".join(map(_fold, texts)) + b"END:VEVENT\r\n"


def _uid(event: FeedEvent, domain: str) -> str:
    return f"appt-{event.appointment_id}@{domain}"


def _summary(event: FeedEvent, privacy: Privacy) -> str:
    if privacy == "busy":
        title = BUSY_SUMMARY
    else:
        reference = event.family_reference
        title = f"{event.service_name} — {reference}" if reference else event.service_name
        if privacy == "full" and event.participants > 1:
            title += f" ({event.participants} participants)"
        if event.pathway_session is not None:
            title += " — Séance {}/{}".format(*event.pathway_session)
    if event.status == "cancelled":
        return CANCELLED_PREFIX + title
    return MARKS[event.mark][0] + title if event.mark in MARKS else title


def _location(event: FeedEvent) -> str:
    # A home visit happens at the family's address: only the feeds given it show it.
    if event.site_kind == "home":
        address = event.visit_address
        return f"{HOME_VISIT_LOCATION} : {address}" if address else HOME_VISIT_LOCATION
    if event.site_address:
        return f"{event.site_label}, {event.site_address}"
    return event.site_label


def _description(event: FeedEvent) -> str | None:
    parts = []
    if event.attendees in ATTENDEES:
        parts.append(f"Attendus : {ATTENDEES[event.attendees]}")
    if event.interpreter_language:
        parts.append(f"Interprète : {event.interpreter_language}")
    if event.note:
        # The note is free text typed by staff: mask any number a colleague pasted into it.
        parts.append(f"Note interne : {_PHONE_LIKE.sub(PHONE_MASK, event.note)}")
    return "\n".join(parts) or None


def _utc_text(moment: datetime) -> str:
    return _basic_format(moment.astimezone(UTC)) + "Z"


def _zoned_text(moment: datetime, zone: str) -> str:
    """Return ``;TZID=<zone>:<local>``, or ``:<utc>Z`` for a wall-clock time that occurs twice.

    RFC 5545 reads a repeated local time (02:30 on an autumn night) as its first occurrence, so
    the second one cannot be written with a TZID, and ical.js (Thunderbird) reads even the first
    one as the second. UTC is exact in every client, so both occurrences are written in UTC.
    """
    local = moment.astimezone(ZoneInfo(zone))
    if local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset():
        return f":{_utc_text(moment)}"
    return f";TZID={zone}:{_basic_format(local)}"


def _basic_format(moment: datetime) -> str:
    # What strftime("%Y%m%dT%H%M%S") gives, in two thirds of its time (three calls per event).
    return (f"{moment.year:04}{moment.month:02}{moment.day:02}"
            f"T{moment.hour:02}{moment.minute:02}{moment.second:02}")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    value = _CONTROL_CHARS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    # Chained replace() is several times faster than str.translate() on non-ASCII text.
    # The backslash goes first, so the escapes added after it are not escaped again.
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> bytes:
    """Encode one content line, folded at 75 octets (RFC 5545 §3.1), CRLF-terminated."""
    raw = line.encode("utf-8")
    if len(raw) <= _MAX_LINE_OCTETS:
        return raw + _CRLF
    chunks = []
    start, width = 0, _MAX_LINE_OCTETS
    while len(raw) - start > width:
        cut = start + width
        while raw[cut] & 0xC0 == 0x80:  # never split a multi-octet UTF-8 character
            cut -= 1
        chunks.append(raw[start:cut])
        start, width = cut, _MAX_LINE_OCTETS - 1  # the leading space counts on continuations
    chunks.append(raw[start:])
    return b"\r\n ".join(chunks) + _CRLF
