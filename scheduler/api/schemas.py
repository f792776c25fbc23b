"""Request and response schemas of the v1 API, named after intent (``XCreate``, ``XUpdate``, ``XOut``)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scheduler.api.inputs import MULTI_LINE, ONE_LINE, ApiDate, ApiDateTime, ExactBool, ExactInt
from scheduler.domain.calendars import holiday_calendar_key
from scheduler.domain.consistency import (
    interpreter_rule_problem,
    interval_problem,
    school_zone_problem,
    validity_problem,
)
from scheduler.languages import normalize_language
from scheduler.phones import normalize_mobile, normalize_phone

Text = Annotated[str, Field(min_length=1, max_length=200), ONE_LINE]
Ident = Annotated[str, Field(min_length=1, max_length=64), ONE_LINE]
Zone = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra={"format": "time-zone"}), ONE_LINE]
Label = Annotated[str, Field(min_length=1, max_length=120), ONE_LINE]
Address = Annotated[str, Field(max_length=300), MULTI_LINE]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])]
SiteKind = Literal["office", "school", "home", "online"]
SchoolZone = Literal["A", "B", "C"]
HolidayRegion = Literal["57", "6AE", "971", "972", "973", "974", "976"]
Role = Literal["psychologist", "social_worker", "coordinator", "other"]
Scope = Literal["slots:read", "appointments:write", "admin", "appointments:read", "webhooks:write"]
AppointmentStatus = Literal["booked", "confirmed", "cancelled", "attended", "no_show"]
Attendees = Literal["parents", "child", "family"]
CancelledBy = Literal["family", "api", "staff", "system"]
HOLIDAY_REGIONS = ("57", "6AE", "971", "972", "973", "974", "976")

T = TypeVar("T")


class Strict(BaseModel):
    """Unknown fields are refused: a typo such as ``staf_id`` must not silently book anyone."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    next_cursor: str | None = None


def _raise(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


def _phone(value: str | None) -> str | None:
    return None if value is None else normalize_phone(value)


# "phone" and "mobile" formats: what phonenumbers accepts (see the 422 invalid-phone), which no
# JSON Schema pattern can say; the document names the format so that clients (and the fuzzer) can.
PhoneText = Annotated[str, Field(min_length=1, max_length=32, examples=["01 43 94 33 00"],
                                 json_schema_extra={"format": "phone"}), ONE_LINE]
MobileText = Annotated[
    str, Field(min_length=1, max_length=32, json_schema_extra={"format": "mobile"}), ONE_LINE
]


def kept() -> Any:
    """A PATCH field that may be changed but not removed: left out by default, ``null`` refused."""
    return Field(None)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from None
    return value


# --- sites -----------------------------------------------------------------------------------


class SiteCreate(Strict):
    """A place: ``name`` is internal, ``public_label`` is what families read."""

    name: Text
    kind: SiteKind
    address: Address | None = None
    timezone: Zone = "Europe/Paris"
    school_zone: SchoolZone | None = None
    public_label: Label
    holiday_region: HolidayRegion | None = Field(
        None,
        description="Regional public holidays: 57 Moselle, 6AE Alsace, 97x overseas (default from the zone).",
    )
    phone: PhoneText | None = Field(
        None, description="The site's own number, for families (French or international; answered in E.164)."
    )

    _zone = field_validator("timezone")(_check_zone)
    _phone = field_validator("phone")(_phone)

    @model_validator(mode="after")
    def _school(self) -> SiteCreate:
        _raise(school_zone_problem(self.kind, self.school_zone, holiday_calendar_key(self.holiday_region,
                                                                                     self.timezone)))
        return self



class SiteUpdate(Strict):
    """Fields to change on a site (``null`` removes an optional field)."""

    name: Text = kept()
    kind: SiteKind = kept()
    address: Address | None = None
    timezone: Zone = kept()
    school_zone: SchoolZone | None = None
    public_label: Label = kept()
    holiday_region: HolidayRegion | None = None
    phone: PhoneText | None = None

    _zone = field_validator("timezone")(_check_zone)
    _phone = field_validator("phone")(_phone)


class SiteOut(BaseModel):
    """A site."""

    id: str
    name: str
    kind: str
    address: str | None
    timezone: str
    school_zone: str | None
    public_label: str
    holiday_region: str | None
    phone: str | None


# --- staff -----------------------------------------------------------------------------------


class StaffCreate(Strict):
    """A staff member."""

    name: Text
    role: Role
    phone: PhoneText | None = Field(None, description="French or international; answered in E.164.")

    _phone = field_validator("phone")(_phone)



class StaffUpdate(Strict):
    """Fields to change on a staff member."""

    name: Text = kept()
    role: Role = kept()
    phone: PhoneText | None = None

    _phone = field_validator("phone")(_phone)


class StaffOut(BaseModel):
    """A staff member."""

    id: str
    name: str
    role: str
    phone: str | None


# --- interpreters ---------------------------------------------------------------------------

# "language": an ISO 639 code that scheduler.languages knows (a 422 otherwise).
Language = Annotated[
    str, Field(min_length=2, max_length=3, json_schema_extra={"format": "language"}), ONE_LINE
]
Mode = Literal["on_site", "phone", "video"]


def _languages(values: list[str]) -> list[str]:
    return list(dict.fromkeys(normalize_language(value) for value in values))


def _mobile(value: str | None) -> str | None:
    return None if value is None else normalize_mobile(value)


class InterpreterCreate(Strict):
    """An interpreter of the pool (ISO 639 codes: two letters where one exists, e.g. ``ar``, ``ber``,
    ``fsl``)."""

    name: Text
    languages: Annotated[list[Language], Field(min_length=1, max_length=20)]
    mode: Mode = "on_site"
    phone: MobileText | None = None
    timezone: Zone = "Europe/Paris"

    _languages = field_validator("languages")(_languages)
    _phone = field_validator("phone")(_mobile)
    _zone = field_validator("timezone")(_check_zone)



class InterpreterUpdate(Strict):
    """Fields to change on an interpreter."""

    name: Text = kept()
    languages: Annotated[list[Language], Field(min_length=1, max_length=20)] = kept()
    mode: Mode = kept()
    phone: MobileText | None = None

    _languages = field_validator("languages")(_languages)

    _phone = field_validator("phone")(_mobile)


class InterpreterOut(BaseModel):
    """An interpreter."""

    id: str
    name: str
    languages: list[str]
    mode: str
    phone: str | None
    timezone: str


class ExternalInterpreterIn(Strict):
    """An interpreting agency booked by phone, for when the pool has nobody."""

    language: Language
    agency: Label
    reference: Label

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return normalize_language(value)


class InterpreterUseOut(BaseModel):
    """Interpreted appointments of one language in one month (pool and agencies)."""

    language: str
    month: str
    appointments: int
    external: int


# --- services --------------------------------------------------------------------------------


class ServiceCreate(Strict):
    """A kind of appointment."""

    name: Text
    duration_minutes: Annotated[ExactInt, Field(ge=5, le=720)]
    capacity: Annotated[ExactInt, Field(ge=1, le=200)] = 1
    min_notice_minutes: Annotated[ExactInt, Field(ge=0, le=60 * 24 * 60)] = 0
    horizon_days: Annotated[ExactInt, Field(ge=1, le=730)] = 92
    reminder_offsets_minutes: list[Annotated[ExactInt, Field(ge=1, le=60 * 24 * 30)]] | None = Field(
        None,
        max_length=5,
        description="Minutes before the start of each reminder; omitted: the default policy.",
    )
    bring: Annotated[str, Field(min_length=1, max_length=300), ONE_LINE] | None = Field(
        None, description="What the family should bring, shown on its page (public wording).",
        examples=["Le carnet de santé de l'enfant"],
    )
    rebook_any_staff: bool = Field(
        False, description="A family choosing another time from its page may take any staff member's.")



class ServiceUpdate(Strict):
    """Fields to change on a service (duration and capacity apply to new bookings)."""

    name: Text = kept()
    duration_minutes: Annotated[ExactInt, Field(ge=5, le=720)] = kept()
    capacity: Annotated[ExactInt, Field(ge=1, le=200)] = kept()
    min_notice_minutes: Annotated[ExactInt, Field(ge=0, le=60 * 24 * 60)] = kept()
    horizon_days: Annotated[ExactInt, Field(ge=1, le=730)] = kept()
    reminder_offsets_minutes: list[Annotated[ExactInt, Field(ge=1, le=60 * 24 * 30)]] | None = Field(
        None, max_length=5
    )
    bring: Annotated[str, Field(min_length=1, max_length=300), ONE_LINE] | None = None
    rebook_any_staff: bool = kept()


class ServiceOut(BaseModel):
    """A service."""

    id: str
    name: str
    duration_minutes: int
    capacity: int
    min_notice_minutes: int
    horizon_days: int
    reminder_offsets_minutes: list[int] | None
    bring: str | None = None
    rebook_any_staff: bool = False


# --- availability rules, absences, openings ---------------------------------------------------


EVERY_WEEKS = "1: every week; 2: every other week; up to 4. The weeks are counted from valid_from's week."


class RuleCreate(Strict):
    """A weekly opening: slots are cut from ``start_time`` in steps of the service's duration.

    A staff member's rule names a site and services; an interpreter's rule (``interpreter_id`` in
    place of ``staff_id``) names neither.
    """

    staff_id: Ident | None = None
    interpreter_id: Ident | None = None
    site_id: Ident | None = None
    service_ids: Annotated[list[Ident], Field(max_length=50)] = Field(default_factory=list)
    weekday: Annotated[ExactInt, Field(ge=1, le=7, description="1 = Monday ... 7 = Sunday")]
    start_time: HHMM
    end_time: HHMM
    valid_from: ApiDate
    valid_until: ApiDate | None = None
    follows_school_calendar: ExactBool = False
    every_weeks: Annotated[ExactInt, Field(ge=1, le=4, description=EVERY_WEEKS)] = 1


    @model_validator(mode="after")
    def _order(self) -> RuleCreate:
        if (self.staff_id is None) == (self.interpreter_id is None):
            raise ValueError("give exactly one of staff_id and interpreter_id")
        if self.staff_id is not None and (self.site_id is None or not self.service_ids):
            raise ValueError("a staff member's rule needs site_id and at least one service id")
        if self.interpreter_id is not None and (self.site_id is not None or self.service_ids):
            raise ValueError("an interpreter's rule has no site_id and no service_ids")
        _raise(interpreter_rule_problem(self.interpreter_id, self.follows_school_calendar))
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        _raise(validity_problem(self.valid_from, self.valid_until))
        return self

    def times(self) -> tuple[time, time]:
        """Start and end as ``time`` values."""
        return time.fromisoformat(self.start_time), time.fromisoformat(self.end_time)


class RuleOut(BaseModel):
    """A weekly rule."""

    id: str
    staff_id: str | None
    interpreter_id: str | None = None
    site_id: str | None
    service_ids: list[str]
    weekday: int
    start_time: str
    end_time: str
    valid_from: date
    valid_until: date | None
    follows_school_calendar: bool
    every_weeks: int = 1


class RuleUpdate(Strict):
    """Fields to change on a rule (typically ``valid_until`` to end it)."""

    valid_until: ApiDate | None = None
    follows_school_calendar: ExactBool = kept()
    every_weeks: Annotated[ExactInt, Field(ge=1, le=4, description=EVERY_WEEKS)] = kept()


CANCEL_AFFECTED = ("true: the active appointments it falls on are cancelled now, each family texted; "
                   "false: they stay, listed in affected_appointments for staff to decide.")
Reason = Annotated[str, Field(max_length=200), ONE_LINE]


class AffectedOut(BaseModel):
    """An active appointment an absence or closure falls on (cancelled if ``cancel_affected`` was true)."""

    id: str
    start: datetime
    staff_id: str
    site_id: str


class AbsenceCreate(Strict):
    """A time when a staff member (or, with ``interpreter_id``, an interpreter) is away."""

    staff_id: Ident | None = None
    interpreter_id: Ident | None = None
    start: ApiDateTime
    end: ApiDateTime
    reason: Reason | None = None
    cancel_affected: Annotated[ExactBool, Field(description=CANCEL_AFFECTED)] = False


    @model_validator(mode="after")
    def _order(self) -> AbsenceCreate:
        if (self.staff_id is None) == (self.interpreter_id is None):
            raise ValueError("give exactly one of staff_id and interpreter_id")
        _raise(interval_problem(self.start, self.end))
        return self


class AbsenceOut(BaseModel):
    """An absence."""

    id: str
    staff_id: str | None
    interpreter_id: str | None = None
    start: datetime
    end: datetime
    reason: str | None
    affected_appointments: list[AffectedOut] = Field(default_factory=list)


class AbsenceUpdate(Strict):
    """Fields to change on an absence; the merged absence must still end after it starts."""

    start: ApiDateTime = kept()
    end: ApiDateTime = kept()
    reason: Reason | None = None
    cancel_affected: Annotated[ExactBool, Field(description=CANCEL_AFFECTED)] = False


class ClosureCreate(Strict):
    """A time when a site is closed (a strike, an election): no slot there, whoever works there."""

    site_id: Ident
    start: ApiDateTime
    end: ApiDateTime
    reason: Reason | None = None
    cancel_affected: Annotated[ExactBool, Field(description=CANCEL_AFFECTED)] = False

    @model_validator(mode="after")
    def _order(self) -> ClosureCreate:
        _raise(interval_problem(self.start, self.end))
        return self


class ClosureOut(BaseModel):
    """A closure of a site."""

    id: str
    site_id: str
    start: datetime
    end: datetime
    reason: str | None
    affected_appointments: list[AffectedOut] = Field(default_factory=list)


class ClosureUpdate(Strict):
    """Fields to change on a closure; the merged closure must still end after it starts."""

    start: ApiDateTime = kept()
    end: ApiDateTime = kept()
    reason: Reason | None = None
    cancel_affected: Annotated[ExactBool, Field(description=CANCEL_AFFECTED)] = False


class OpeningCreate(Strict):
    """A one-off extra opening outside the weekly rules."""

    staff_id: Ident
    site_id: Ident
    service_ids: Annotated[list[Ident], Field(min_length=1, max_length=50)]
    start: ApiDateTime
    end: ApiDateTime

    @model_validator(mode="after")
    def _order(self) -> OpeningCreate:
        _raise(interval_problem(self.start, self.end))
        return self


class OpeningOut(BaseModel):
    """An extra opening."""

    id: str
    staff_id: str
    site_id: str
    service_ids: list[str]
    start: datetime
    end: datetime


class OpeningUpdate(Strict):
    """Fields to change on an extra opening; the merged opening must still end after it starts."""

    service_ids: Annotated[list[Ident], Field(min_length=1, max_length=50)] = kept()
    start: ApiDateTime = kept()
    end: ApiDateTime = kept()


# --- API keys --------------------------------------------------------------------------------


class ApiKeyCreate(Strict):
    """A new API key with its scopes."""

    name: Text
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=5)]
    site_ids: Annotated[list[Ident], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The sites the key sees and acts on (null: every site); "
        "anything at another site answers 404.")
    expires_at: ApiDateTime | None = Field(
        default=None, description="From then on the key is refused (401); null: it never expires.")


class ApiKeyUpdate(Strict):
    """A new name, scopes, sites or expiry for a key (the key itself never changes: create another one)."""

    name: Text = kept()
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=5)] = kept()
    site_ids: Annotated[list[Ident], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The sites the key sees and acts on from its next request (null: "
        "every site); each must exist (404 otherwise).")
    expires_at: ApiDateTime | None = Field(
        default=None, description="From then on the key is refused (401); null: it never expires.")


class ApiKeyOut(BaseModel):
    """An API key, without the key."""

    id: str
    name: str
    scopes: list[str]
    site_ids: list[str] | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = Field(default=None, description="To the minute or so; null: never used.")


class ApiKeyCreated(ApiKeyOut):
    """The new key, in clear this once (only its hash is stored)."""

    secret_fields: ClassVar[frozenset[str]] = frozenset({"key"})

    key: str


# --- slots and appointments ------------------------------------------------------------------


class SlotOut(BaseModel):
    """A free slot."""

    start: datetime
    end: datetime
    service_id: str
    staff_id: str
    site_id: str | None
    remaining: int



class FamilyIn(Strict):
    """The family: a reference (never a name), and how and whether to text it."""

    reference: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")]
    phone: PhoneText | None = Field(
        None, description="French or international; a landline is kept but never texted (answered in E.164)."
    )
    language: Language = "fr"
    sms_consent: ExactBool = False

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return normalize_language(value)


class FamilyPhoneChange(Strict):
    """A family's new number (null: no more texts), for its appointments to come."""

    phone: MobileText | None


class FamilyOut(BaseModel):
    """The family as stored."""

    reference: str
    phone: str | None = Field(
        description="E.164; masked (+33 6•• ••• •78) in lists, in clear in one appointment's answer."
    )
    language: str
    sms_consent: bool


class AppointmentCreate(Strict):
    """A booking request."""

    service_id: Ident
    start: ApiDateTime
    staff_id: Ident | None = None
    site_id: Ident | None = None
    family: FamilyIn
    interpreter_language: Language | None = None
    note: Annotated[str, Field(max_length=2000), MULTI_LINE] | None = None
    visit_address: Address | None = Field(
        None, description="The family's address: required for a home visit (a site of kind `home`), "
        "refused elsewhere."
    )
    attendees: Attendees | None = Field(None, description="Who is expected (null: not said).")


    @field_validator("interpreter_language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else normalize_language(value)


class AppointmentInterpreterOut(BaseModel):
    """The interpreter booked with an appointment: from the pool, or an external agency's."""

    language: str
    interpreter_id: str | None
    status: Literal["booked", "cancelled", "external"]
    agency: str | None = None
    reference: str | None = None


class AppointmentOut(BaseModel):
    """An appointment, its times in the site's zone."""

    id: str
    status: AppointmentStatus
    start: datetime
    end: datetime
    service_id: str
    staff_id: str
    site_id: str
    family: FamilyOut
    interpreter: AppointmentInterpreterOut | None = None
    note: str | None = None
    visit_address: str | None = Field(
        None, description="A home visit's address (null elsewhere, and once erased by retention).")
    attendees: Attendees | None = None
    """Who is expected (null: not said)."""
    pathway_id: str | None = None
    """The care pathway the appointment is part of (null: none)."""
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    cancelled_by: CancelledBy | None = None
    """Who cancelled: the family (family page or SMS reply), an API key, staff, or the service itself."""
    cancel_reason: str | None = None
    """Staff-only: never shown to the family."""


class CancelIn(Strict):
    """Why the appointment is cancelled (optional)."""

    reason: Annotated[str, Field(max_length=500), MULTI_LINE] | None = None


class RescheduleIn(Strict):
    """Where to move the appointment."""

    start: ApiDateTime
    staff_id: Ident | None = Field(
        None, description="Another staff member; by default the appointment keeps its own.")
    site_id: Ident | None = Field(
        None, description="Another site; by default the appointment stays at its own.")


class OutcomeIn(Strict):
    """What happened."""

    status: Literal["attended", "no_show"]


class HealthOut(BaseModel):
    """Service health."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    dispatcher: Literal["running", "stopped"]
    version: str


class MessageOut(BaseModel):
    """An SMS of an appointment, as staff may see it: the number masked, never the text's recipient in
    clear."""

    id: str
    recipient: Literal["family", "interpreter"]
    kind: str
    status: str
    due_at: datetime
    to: str | None
    segments: int | None
    provider_status: str | None
    error_code: str | None
    sent_at: datetime | None


class MessagePage(Page[MessageOut]):
    """An appointment's SMS, and why its family is never texted, if it is not."""

    family_not_texted: Literal["no-phone", "landline", "no-consent"] | None = Field(
        None, description="Why the family gets no SMS at all: no phone, a landline (no SMS), or no consent; "
        "null when it is texted.")


class ReplyOut(BaseModel):
    """A family's SMS reply kept for staff (no keyword recognised): the number masked, never in clear."""

    id: str
    appointment_id: str | None = Field(
        description="The family's next appointment when the reply came, if any."
    )
    received_at: datetime = Field(description="In the appointment site's zone (UTC without an appointment).")
    text: str
    sender: str = Field(description="The family's number, masked (+33 6•• ••• •78).")
