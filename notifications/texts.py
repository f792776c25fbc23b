"""What each SMS says, per event and language, from the templates in ``config/texts/<lang>.toml``."""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time

from notifications.segments import Segments, count_segments, is_gsm7, to_gsm7

DEFAULT_LANGUAGE = "fr"
APPOINTMENT_EVENTS = (
    "appointment_booked",
    "appointment_moved",
    "appointment_reminder",
    "appointment_cancelled",
)
INTERPRETER_EVENTS = (
    "interpreter_booked",
    "interpreter_moved",
    "interpreter_cancelled",
    "interpreter_reminder",
)
EVENTS = APPOINTMENT_EVENTS + INTERPRETER_EVENTS
PATHWAY_EVENTS = ("pathway_booked", "pathway_cancelled")
"""One text for a whole care pathway: its confirmation, and the cancellation of its sessions to come."""
ATTENDEES = ("parents", "child", "family")
"""Who is expected at a session; each language names them in neutral words (``[attendees]``)."""

# Placeholders each template may use: a typo in a TOML file fails at load, not at send time.
_LANGUAGE_FIELDS = {
    "when": {"date", "time"},
    "place": {"site_label"},
    "place_with_address": {"site_label", "site_address"},
    "place_at_home": set(),
}
_EVENT_FIELDS = {"text": {"when", "place"}, "link": {"link"}, "phone": {"site_phone"}}
_PATHWAY_FIELDS = {"text": {"sessions", "place"}, "link": {"link"}, "phone": {"site_phone"}}
_SESSION_FIELDS = {"when", "who"}
# Ever shorter forms of a text, tried until one fits the language's segment budget.
_SHORTENINGS = ((False, True), (True, True), (True, False))  # (short date, with address)


# How an interpreter who does not come to the site works, as their (French) texts say it.
REMOTE_INTERPRETING = {"phone": "par téléphone", "video": "en visio"}


def interpreter_place(site_label: str, site_address: str | None, mode: str | None) -> tuple[str, str | None]:
    """The label and address an interpreter's text gives: the site's for on-site interpreting; for
    phone or video interpreting, the site's label and how they work, with no address to go to."""
    remote = REMOTE_INTERPRETING.get(mode or "")
    return (f"{site_label}, {remote}", None) if remote else (site_label, site_address)


@dataclass(frozen=True, slots=True)
class MessageContext:
    """What a text may say about an appointment; nothing else reaches the family's phone."""

    start: datetime
    """Aware, already in the site's zone: the wall time the family will read."""
    site_label: str
    """The site's public label (never its internal name)."""
    site_address: str | None = None
    link: str | None = None
    """The family's page short link, to confirm or cancel."""
    site_phone: str | None = None
    at_home: bool = False
    """A home visit: the place reads "at your home" (``place_at_home``), never an address."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError(f"start must carry a UTC offset: {self.start.isoformat()}")


@dataclass(frozen=True, slots=True)
class RenderedSms:
    """A text ready to send, in the language actually used, with its cost."""

    body: str
    language: str
    segments: Segments


@dataclass(frozen=True, slots=True)
class EventTexts:
    """One event's templates: the sentence, and the confirm/cancel part by link or by phone."""

    text: str
    link: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class LanguageTexts:
    """One language's file: how it writes dates, places, and each event it has a text for."""

    language: str
    locale: str
    date_long: str
    date_short: str
    time: str
    when: str
    place: str
    place_with_address: str
    place_at_home: str
    max_segments: int
    gsm7_spelling: Mapping[str, str]
    events: Mapping[str, EventTexts]
    gsm7_fields: bool = False
    """The language's own words are all GSM-7: the site's label and address are spelled in GSM-7
    too (``to_gsm7``), so that one "ç" or "—" in them does not make the whole text UCS-2."""
    pathway_events: Mapping[str, EventTexts] = dataclass_field(default_factory=dict)
    """The texts of a whole care pathway (``PATHWAY_EVENTS``): ``{sessions}`` lists its sessions."""
    session: str = "{when}"
    """One session in a pathway's list: ``{when}`` and ``{who}`` (who is expected)."""
    session_alone: str = "{when}"
    """A session whose attendees are not said."""
    session_separator: str = " ; "
    attendees: Mapping[str, str] = dataclass_field(default_factory=dict)
    pathway_max_segments: int = 3


class TextCatalog:
    """Every language's templates, checked when loaded."""

    def __init__(self, languages: Mapping[str, LanguageTexts]) -> None:
        default = languages.get(DEFAULT_LANGUAGE)
        missing = [event for event in EVENTS if default is None or event not in default.events]
        missing += [event for event in PATHWAY_EVENTS
                    if default is not None and event not in default.pathway_events]
        if missing:
            raise ValueError(f"the {DEFAULT_LANGUAGE} texts lack: {', '.join(missing)}")
        self._languages = dict(languages)

    @classmethod
    def load(cls, texts_dir: Path | None = None) -> TextCatalog:
        """Read every ``<lang>.toml`` of a directory.

        Args:
            texts_dir: The directory; ``default_texts_dir()`` when not given.

        Raises:
            ValueError: A file is malformed, uses an unknown placeholder, or French lacks an event.
        """
        directory = texts_dir if texts_dir is not None else default_texts_dir()
        files = sorted(directory.glob("*.toml"))
        return cls({path.stem: _parse_language(path) for path in files})

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._languages)

    def render(self, event: str, language: str, ctx: MessageContext) -> RenderedSms:
        """Write the text of an event in a language (French when the language lacks it).

        The longest form that fits the language's segment budget is used: the long date and
        the address first, then a short date, then no address; last, the label cut short, so
        that no site's data can take a text past its budget. In a language whose words are
        all GSM-7 (French, English), the label and address are first spelled in GSM-7.
        """
        texts = self._texts_for(event, language)
        if texts.gsm7_fields:
            ctx = _spelled_in_gsm7(ctx)
        for short_date, with_address in _SHORTENINGS:
            body = _compose(texts, texts.events[event], ctx, short_date=short_date, with_address=with_address)
            segments = count_segments(body)
            if segments.segments <= texts.max_segments:
                return RenderedSms(body, texts.language, segments)
        return _with_label_cut(texts, texts.events[event], ctx)

    def render_pathway(
        self, event: str, language: str, ctx: MessageContext, sessions: Sequence[tuple[datetime, str | None]]
    ) -> RenderedSms:
        """Write one text for a care pathway's ``sessions`` (their local starts and who is expected).

        ``ctx.start`` is the first session's. Shortened as ``render`` does, within the language's
        ``pathway_max_segments``: the long dates and the address first, then short dates, then no
        address, last the label cut short.
        """
        if event not in PATHWAY_EVENTS:
            raise ValueError(f"unknown pathway SMS event: {event!r}")
        texts = self._languages.get(_base_language(language))
        if texts is None or event not in texts.pathway_events:
            texts = self._languages[DEFAULT_LANGUAGE]
        if texts.gsm7_fields:
            ctx = _spelled_in_gsm7(ctx)
        template = texts.pathway_events[event]
        budget = texts.pathway_max_segments

        def rendered(label: str, short_date: bool, with_address: bool) -> RenderedSms:
            body = _compose_pathway(texts, template, replace(ctx, site_label=label), sessions,
                                    short_date=short_date, with_address=with_address)
            return RenderedSms(body, texts.language, count_segments(body))

        for short_date, with_address in _SHORTENINGS:
            sms = rendered(ctx.site_label, short_date, with_address)
            if sms.segments.segments <= budget:
                return sms
        fits, too_long = 0, len(ctx.site_label)
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            label = ctx.site_label[:middle].rstrip(" ,;:-")
            if rendered(label, True, False).segments.segments <= budget:
                fits = middle
            else:
                too_long = middle
        return rendered(ctx.site_label[:fits].rstrip(" ,;:-"), True, False)

    def _texts_for(self, event: str, language: str) -> LanguageTexts:
        if event not in EVENTS:
            raise ValueError(f"unknown SMS event: {event!r}")
        texts = self._languages.get(_base_language(language))
        if texts is None or event not in texts.events:
            return self._languages[DEFAULT_LANGUAGE]
        return texts


def default_texts_dir() -> Path:
    """``config/texts`` at the repository root."""
    return Path(__file__).resolve().parents[1] / "config" / "texts"


@functools.cache
def default_catalog() -> TextCatalog:
    """The catalog of ``default_texts_dir()``, loaded once."""
    return TextCatalog.load(default_texts_dir())


def appointment_booked(language: str, ctx: MessageContext, catalog: TextCatalog | None = None) -> RenderedSms:
    """The confirmation sent when an appointment is booked."""
    return (catalog or default_catalog()).render("appointment_booked", language, ctx)


def appointment_moved(language: str, ctx: MessageContext, catalog: TextCatalog | None = None) -> RenderedSms:
    """The notice sent when an appointment is rescheduled (``ctx.start`` is the new time)."""
    return (catalog or default_catalog()).render("appointment_moved", language, ctx)


def appointment_reminder(
    language: str, ctx: MessageContext, catalog: TextCatalog | None = None
) -> RenderedSms:
    """A reminder before an appointment."""
    return (catalog or default_catalog()).render("appointment_reminder", language, ctx)


def appointment_cancelled(
    language: str, ctx: MessageContext, catalog: TextCatalog | None = None
) -> RenderedSms:
    """The notice sent when an appointment is cancelled (``ctx.start`` is the cancelled time)."""
    return (catalog or default_catalog()).render("appointment_cancelled", language, ctx)


def interpreter_booked(language: str, ctx: MessageContext, catalog: TextCatalog | None = None) -> RenderedSms:
    """Tells an interpreter a booking is made (French; never the family's link)."""
    return (catalog or default_catalog()).render("interpreter_booked", language, ctx)


def interpreter_moved(language: str, ctx: MessageContext, catalog: TextCatalog | None = None) -> RenderedSms:
    """Tells an interpreter a booking moved (French)."""
    return (catalog or default_catalog()).render("interpreter_moved", language, ctx)


def interpreter_cancelled(
    language: str, ctx: MessageContext, catalog: TextCatalog | None = None
) -> RenderedSms:
    """Tells an interpreter a booking is cancelled (French)."""
    return (catalog or default_catalog()).render("interpreter_cancelled", language, ctx)


def interpreter_reminder(
    language: str, ctx: MessageContext, catalog: TextCatalog | None = None
) -> RenderedSms:
    """Reminds an interpreter of a booking (French)."""
    return (catalog or default_catalog()).render("interpreter_reminder", language, ctx)


def _base_language(language: str) -> str:
    """``"pt-BR"``, ``"PT_br"`` -> ``"pt"``."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def _spelled_in_gsm7(ctx: MessageContext) -> MessageContext:
    address = _gsm7_unless_lost(ctx.site_address) if ctx.site_address else ctx.site_address
    return replace(ctx, site_label=_gsm7_unless_lost(ctx.site_label), site_address=address)


def _gsm7_unless_lost(text: str) -> str:
    """The GSM-7 spelling of a label, or the label as written when that spelling would lose it:
    a letter or digit left out (Arabic script) or nothing left at all (only emoji). The text then
    costs UCS-2 segments, but says where to go."""
    spelled = to_gsm7(text)
    if not spelled.strip() and text.strip():
        return text
    if sum(char.isalnum() for char in spelled) < sum(char.isalnum() for char in text):
        return text
    return spelled


def _with_label_cut(texts: LanguageTexts, event: EventTexts, ctx: MessageContext) -> RenderedSms:
    """The shortest form (short date, no address) with the longest start of the label that fits.

    A binary search: a longer label never costs fewer segments. Should even no label be too
    long (an absurdly long link), the text goes without one rather than not at all.
    """
    def rendered(length: int) -> RenderedSms:
        label = ctx.site_label[:length].rstrip(" ,;:-")
        body = _compose(texts, event, replace(ctx, site_label=label), short_date=True, with_address=False)
        return RenderedSms(body, texts.language, count_segments(body))

    fits, too_long = 0, len(ctx.site_label)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if rendered(middle).segments.segments <= texts.max_segments:
            fits = middle
        else:
            too_long = middle
    return rendered(fits)


def _compose(
    texts: LanguageTexts, event: EventTexts, ctx: MessageContext, *, short_date: bool, with_address: bool
) -> str:
    when = texts.when.format(
        date=_date(texts, ctx.start, short_date),
        time=format_time(ctx.start.time(), texts.time, locale=texts.locale),
    )
    if ctx.at_home:
        place = texts.place_at_home
    elif with_address and ctx.site_address:
        place = texts.place_with_address.format(site_label=ctx.site_label, site_address=ctx.site_address)
    else:
        place = texts.place.format(site_label=ctx.site_label)
    return event.text.format(when=when, place=place) + _action(event, ctx)


def _compose_pathway(
    texts: LanguageTexts, event: EventTexts, ctx: MessageContext,
    sessions: Sequence[tuple[datetime, str | None]], *, short_date: bool, with_address: bool,
) -> str:
    """A pathway's text: its sessions listed (each its date, time and who is expected), the place once."""
    listed = []
    for start, who in sessions:
        when = texts.when.format(date=_date(texts, start, short_date),
                                 time=format_time(start.time(), texts.time, locale=texts.locale))
        named = texts.attendees.get(who or "")
        line = texts.session.format(when=when, who=named) if named else texts.session_alone.format(when=when)
        listed.append(line)
    if ctx.at_home:
        place = texts.place_at_home
    elif with_address and ctx.site_address:
        place = texts.place_with_address.format(site_label=ctx.site_label, site_address=ctx.site_address)
    else:
        place = texts.place.format(site_label=ctx.site_label)
    sessions_text = texts.session_separator.join(listed)
    return event.text.format(sessions=sessions_text, place=place) + _action(event, ctx)


def _date(texts: LanguageTexts, start: datetime, short: bool) -> str:
    # Naive date: babel would otherwise convert an aware value to UTC first.
    written = format_date(start.date(), texts.date_short if short else texts.date_long, locale=texts.locale)
    for word, gsm7_word in texts.gsm7_spelling.items():
        written = written.replace(word, gsm7_word)
    return written


def _action(event: EventTexts, ctx: MessageContext) -> str:
    """How to confirm or cancel: the family's page when there is one, else the site's phone."""
    if event.link is not None and ctx.link:
        return event.link.format(link=ctx.link)
    if event.phone is not None and ctx.site_phone:
        return event.phone.format(site_phone=ctx.site_phone)
    return ""


def _parse_language(path: Path) -> LanguageTexts:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key, allowed in _LANGUAGE_FIELDS.items():
        _check_fields(path, key, data[key], allowed)
    events = {name: _parse_event(path, name, data[name]) for name in EVENTS if name in data}
    pathway_events = {name: _parse_event(path, name, data[name], _PATHWAY_FIELDS)
                      for name in PATHWAY_EVENTS if name in data}
    for key in ("session", "session_alone"):
        if key in data:
            _check_fields(path, key, data[key], _SESSION_FIELDS)
    attendees = dict(data.get("attendees", {}))
    if set(attendees) - set(ATTENDEES):
        raise ValueError(f"{path}: [attendees] has unknown keys {sorted(set(attendees) - set(ATTENDEES))}")
    unknown = set(data) - set(EVENTS) - set(PATHWAY_EVENTS) - set(_LANGUAGE_FIELDS) - _SETTINGS
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    return LanguageTexts(
        language=path.stem,
        locale=data["locale"],
        date_long=data["date_long"],
        date_short=data["date_short"],
        time=data["time"],
        when=data["when"],
        place=data["place"],
        place_with_address=data["place_with_address"],
        place_at_home=data["place_at_home"],
        max_segments=int(data["max_segments"]),
        gsm7_spelling=dict(data.get("gsm7_spelling", {})),
        events=events,
        gsm7_fields=_words_are_gsm7(data, {**events, **pathway_events}),
        pathway_events=pathway_events,
        session=data.get("session", "{when}"),
        session_alone=data.get("session_alone", "{when}"),
        session_separator=data.get("session_separator", " ; "),
        attendees=attendees,
        pathway_max_segments=int(data.get("pathway_max_segments", 3)),
    )


def _words_are_gsm7(data: Mapping[str, Any], events: Mapping[str, EventTexts]) -> bool:
    """Whether every template's own words (placeholders aside) are GSM-7."""
    templates = [data[key] for key in _LANGUAGE_FIELDS]
    templates += [part for event in events.values() for part in (event.text, event.link, event.phone) if part]
    return all(
        is_gsm7(literal) for template in templates for literal, _, _, _ in string.Formatter().parse(template)
    )


_SETTINGS = {"locale", "date_long", "date_short", "time", "max_segments", "gsm7_spelling", "session",
             "session_alone", "session_separator", "attendees", "pathway_max_segments"}


def _parse_event(
    path: Path, name: str, table: Mapping[str, Any], fields: Mapping[str, set[str]] | None = None
) -> EventTexts:
    allowed = _EVENT_FIELDS if fields is None else fields
    for key, template in table.items():
        if key not in allowed:
            raise ValueError(f"{path}: [{name}] has an unknown key {key!r}")
        _check_fields(path, f"{name}.{key}", template, allowed[key])
    return EventTexts(text=table["text"], link=table.get("link"), phone=table.get("phone"))


def _check_fields(path: Path, where: str, template: str, allowed: set[str]) -> None:
    used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    if not used <= allowed:
        raise ValueError(f"{path}: {where} uses unknown placeholders {sorted(used - allowed)}")
