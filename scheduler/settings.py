"""Typed settings, read once at start-up from the environment and an optional TOML file.

Names follow ``docs/api.md``: ``CRENEAU_*`` for ours, ``TWILIO_ACCOUNT_SID`` and
``TWILIO_AUTH_TOKEN`` as Twilio names them. Defaults live in ``config/settings.toml``; a
file named by ``CRENEAU_SETTINGS_FILE`` overrides them, and the environment overrides both.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULTS_FILE = CONFIG_DIR / "settings.toml"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./creneau.db"
_RATE_LIMIT = re.compile(r"\d+/(second|minute|hour|day)")
# Names in the CRENEAU_ namespace that are not settings of the service: the file to read, and
# the test suite's own (CRENEAU_TEST_POSTGRES_URL...).
NOT_SETTINGS = frozenset({"CRENEAU_SETTINGS_FILE"})
TEST_PREFIX = "CRENEAU_TEST_"


class SettingsError(Exception):
    """The settings are invalid; the message names each bad setting and why."""


def _env(name: str, *aliases: str) -> Any:
    return Field(validation_alias=AliasChoices(name, name.lower(), *aliases))


class Settings(BaseModel):
    """Everything the service can be told, each field validated at start-up."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL, validation_alias=AliasChoices("CRENEAU_DATABASE_URL", "database_url")
    )
    """SQLAlchemy async URL: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://user@host/db``."""
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("CRENEAU_HOST", "host"))
    """Address the HTTP server listens on."""
    port: int = Field(8000, ge=1, le=65535, validation_alias=AliasChoices("CRENEAU_PORT", "port"))
    """Port the HTTP server listens on."""
    workers: int = Field(1, ge=1, le=64, validation_alias=AliasChoices("CRENEAU_WORKERS", "workers"))
    """Number of server worker processes."""
    public_url: str = Field("", validation_alias=AliasChoices("CRENEAU_PUBLIC_URL", "public_url"))
    """Public base URL: used in links, feed URLs and to check webhook signatures (default: ``http://`` the
    host and port the server listens on)."""
    admin_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("CRENEAU_ADMIN_API_KEY", "admin_api_key")
    )
    """When set, this key is an admin key (all scopes) from start-up."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=AliasChoices("CRENEAU_LOG_LEVEL", "log_level")
    )
    """Log level of the service's loggers."""
    max_body_bytes: int = Field(
        65_536, ge=1024, validation_alias=AliasChoices("CRENEAU_MAX_BODY_BYTES", "max_body_bytes")
    )
    """Largest accepted request body; larger ones get 413."""
    max_header_bytes: int = Field(
        32_768,
        ge=1024,
        le=1_048_576,
        validation_alias=AliasChoices("CRENEAU_MAX_HEADER_BYTES", "max_header_bytes"),
    )
    """Largest accepted request line plus headers; larger ones get 431 and the connection is closed."""
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        validation_alias=AliasChoices("CRENEAU_HEADER_TIMEOUT_SECONDS", "header_timeout_seconds"),
    )
    """How long a client may take to send a request's line and headers; then the connection is closed."""
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=600,
        validation_alias=AliasChoices("CRENEAU_BODY_TIMEOUT_SECONDS", "body_timeout_seconds"),
    )
    """How long a client may take to send a request's body after its headers; then 408 and the
    connection is closed."""
    database_timeout_seconds: float = Field(
        5.0, gt=0, le=120,
        validation_alias=AliasChoices("CRENEAU_DATABASE_TIMEOUT_SECONDS", "database_timeout_seconds"),
    )
    """How long a request waits to connect to PostgreSQL, or for a free pooled connection, before
    it is answered 503 ``service-unavailable``."""

    sms_backend: Literal["console", "twilio", "memory"] = Field(
        "console", validation_alias=AliasChoices("CRENEAU_SMS_BACKEND", "sms_backend")
    )
    """``console`` logs messages with the number masked; ``twilio`` sends them."""
    twilio_account_sid: str | None = Field(
        None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    """Twilio account SID (``AC...``)."""
    twilio_auth_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    """Twilio auth token; also checks webhook signatures."""
    twilio_sender: str | None = Field(
        None, validation_alias=AliasChoices("CRENEAU_TWILIO_SENDER", "twilio_sender")
    )
    """Alphanumeric sender ID, a number, or a Messaging Service SID ``MG...``."""
    twilio_api_base: str | None = Field(
        None, validation_alias=AliasChoices("CRENEAU_TWILIO_API_BASE", "twilio_api_base")
    )
    """Base URL of the Twilio API (default Twilio's own; tests point it at a local fake)."""
    dispatch_interval_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("CRENEAU_DISPATCH_INTERVAL_SECONDS", "dispatch_interval_seconds"),
    )
    """How often due messages are sent."""
    sms_rate_per_second: float = Field(
        10.0,
        gt=0,
        le=10_000,
        validation_alias=AliasChoices("CRENEAU_SMS_RATE_PER_SECOND", "sms_rate_per_second"),
    )
    """Most messages handed to the provider per second by one process (Twilio meters per sender)."""
    dispatch_lease_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        validation_alias=AliasChoices("CRENEAU_DISPATCH_LEASE_SECONDS", "dispatch_lease_seconds"),
    )
    """How long a claimed message belongs to its dispatcher before another one reconciles it; keep it
    well above the provider timeout (10 s)."""
    slots_cache_seconds: float = Field(
        2.0, ge=0, le=60, validation_alias=AliasChoices("CRENEAU_SLOTS_CACHE_SECONDS", "slots_cache_seconds")
    )
    """How long a process may answer the same slot search from memory (0: never), as time passes.
    A write that the page depends on, by any process, invalidates it at once: each answer from
    memory first reads the page's change counters (``scheduler.db.counters``). Booking always
    re-checks in the database."""
    slots_cache_bytes: int = Field(
        8_388_608, ge=0, le=1_073_741_824,
        validation_alias=AliasChoices("CRENEAU_SLOTS_CACHE_BYTES", "slots_cache_bytes"),
    )
    """Most bytes of slot pages one process keeps in memory (the least recently used go first)."""
    quiet_hours: str = Field(
        "20:00-08:00", validation_alias=AliasChoices("CRENEAU_QUIET_HOURS", "quiet_hours")
    )
    """No SMS to families in this window, in the site's zone (empty: none)."""
    waitlist_offer_minutes: float = Field(
        120, gt=0, le=7 * 24 * 60,
        validation_alias=AliasChoices("CRENEAU_WAITLIST_OFFER_MINUTES", "waitlist_offer_minutes"),
    )
    """How long a waiting family has to accept an offered time before it goes to the next family."""
    waitlist_offer_hours: str = Field(
        "09:00-19:00", validation_alias=AliasChoices("CRENEAU_WAITLIST_OFFER_HOURS", "waitlist_offer_hours")
    )
    """When offers are texted, in the site's zone (empty: any time outside quiet hours)."""
    waitlist_parallel_offers: int = Field(
        1, ge=1, le=20,
        validation_alias=AliasChoices("CRENEAU_WAITLIST_PARALLEL_OFFERS", "waitlist_parallel_offers"),
    )
    """Families offered the same freed time at once (the first to accept books it)."""
    waitlist_sweep_minutes: float = Field(
        10.0, gt=0, le=60,
        validation_alias=AliasChoices("CRENEAU_WAITLIST_SWEEP_MINUTES", "waitlist_sweep_minutes"),
    )
    """How often the waiting list is looked at even when no slot was freed (a cancellation looks at once)."""
    retention_days: int = Field(
        90, ge=1, validation_alias=AliasChoices("CRENEAU_RETENTION_DAYS", "retention_days")
    )
    """Days after a family's last appointment before its phone number is erased."""
    audit_retention_days: int = Field(
        365, ge=1, validation_alias=AliasChoices("CRENEAU_AUDIT_RETENTION_DAYS", "audit_retention_days")
    )
    """Days an audit entry (who read or changed a family's data) is kept."""
    secret_key: SecretStr | None = Field(
        None, min_length=32, validation_alias=AliasChoices("CRENEAU_SECRET_KEY", "secret_key")
    )
    """Signs the families' page links and their forms (HMAC). Required to send real SMS; without it
    ``creneau serve`` makes a random one per start, so links die at every restart (demo only)."""
    family_link_days: int = Field(
        7, ge=0, le=365, validation_alias=AliasChoices("CRENEAU_FAMILY_LINK_DAYS", "family_link_days")
    )
    """Days after the appointment's end during which its family page link still answers."""
    family_page_per_token_per_minute: int = Field(
        30, ge=1, validation_alias=AliasChoices("CRENEAU_FAMILY_PAGE_PER_TOKEN_PER_MINUTE",
                                                "family_page_per_token_per_minute")
    )
    """Most failed requests (unknown link, forged form) one family link may get per minute (per
    process, or in all with ``CRENEAU_REDIS_URL``); the family's own visits do not count."""
    family_page_wrong_tokens_per_minute: int = Field(
        100, ge=1, validation_alias=AliasChoices("CRENEAU_FAMILY_PAGE_WRONG_TOKENS_PER_MINUTE",
                                                 "family_page_wrong_tokens_per_minute")
    )
    """Most wrong family links answered 404 per minute (per process, or in all with
    ``CRENEAU_REDIS_URL``), from all addresses together; past it, a wrong link answers 429 (guessing
    from many addresses), a right one still works."""
    family_page_per_address_per_minute: int = Field(
        120, ge=1, validation_alias=AliasChoices("CRENEAU_FAMILY_PAGE_PER_ADDRESS_PER_MINUTE",
                                                 "family_page_per_address_per_minute")
    )
    """Most family page requests (and, apart, report page requests) one client address may make per
    minute (per process, or in all with ``CRENEAU_REDIS_URL``): slows token guessing. Behind a reverse
    proxy, name it in ``CRENEAU_FORWARDED_ALLOW_IPS`` so that each family counts on its own address
    rather than all on the proxy's."""
    log_format: Literal["json", "text"] = Field(
        "json", validation_alias=AliasChoices("CRENEAU_LOG_FORMAT", "log_format")
    )
    """``json``: one JSON object per line with a request id (for a log shipper); ``text``: one plain line."""
    access_log: bool = Field(False, validation_alias=AliasChoices("CRENEAU_ACCESS_LOG", "access_log"))
    """One log line per request (method, route template, status, duration); off by default: it costs
    about as much as a trivial request."""
    metrics_enabled: bool = Field(
        True, validation_alias=AliasChoices("CRENEAU_METRICS_ENABLED", "metrics_enabled")
    )
    """Serve Prometheus metrics at ``/metrics`` (no API key: keep it off the public side of the proxy)."""
    rate_limit: str = Field("", validation_alias=AliasChoices("CRENEAU_RATE_LIMIT", "rate_limit"))
    """Most ``/v1`` requests per API key (or client address without one), e.g. ``600/minute``; empty: none."""
    redis_url: str | None = Field(None, validation_alias=AliasChoices("CRENEAU_REDIS_URL", "redis_url"))
    """Redis URL (``redis://127.0.0.1:6379/0``) where the API and public pages' rate limit counts and
    the SMS send rate are shared by every worker and replica; unset: each process counts and paces on
    its own (as each does for a while when Redis does not answer)."""
    demo: bool = Field(False, validation_alias=AliasChoices("CRENEAU_DEMO", "demo"))
    """Set by ``creneau serve --demo``: the console SMS backend also writes each text, family page
    link included, to standard output (the demo's stand-in for the family's phone)."""
    forwarded_allow_ips: str = Field(
        "", validation_alias=AliasChoices("CRENEAU_FORWARDED_ALLOW_IPS", "forwarded_allow_ips")
    )
    """Reverse proxies trusted for ``X-Forwarded-For``/``-Proto`` (comma-separated addresses, or ``*``);
    empty: none, the peer address is the client's (per-address rate limits then count the proxy)."""
    webhook_allow_private: bool = Field(
        False, validation_alias=AliasChoices("CRENEAU_WEBHOOK_ALLOW_PRIVATE", "webhook_allow_private")
    )
    """Let webhook endpoints be ``http://`` and at private, loopback or link-local addresses (tests and
    closed networks only: otherwise any key with ``webhooks:write`` could make the service call inside)."""
    webhook_backoff_scale: float = Field(
        1.0,
        gt=0,
        le=1,
        validation_alias=AliasChoices("CRENEAU_WEBHOOK_BACKOFF_SCALE", "webhook_backoff_scale"),
    )
    """Multiplies the webhook retry delays (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); tests shorten them."""
    webhook_interval_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        validation_alias=AliasChoices("CRENEAU_WEBHOOK_INTERVAL_SECONDS", "webhook_interval_seconds"),
    )
    """How often each process looks for due webhook deliveries."""
    webhook_concurrency_per_endpoint: int = Field(
        4, ge=1, le=64, validation_alias=AliasChoices("CRENEAU_WEBHOOK_CONCURRENCY_PER_ENDPOINT",
                                                      "webhook_concurrency_per_endpoint")
    )
    """Most deliveries in flight to one endpoint, per process: a slow receiver waits alone."""
    webhook_lease_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        validation_alias=AliasChoices("CRENEAU_WEBHOOK_LEASE_SECONDS", "webhook_lease_seconds"),
    )
    """How long a claimed delivery belongs to its process before another one sends it again (a crash);
    keep it well above the 10 s delivery timeout."""

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db")
        return value

    @model_validator(mode="before")
    @classmethod
    def _public_url_follows_host_and_port(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or _given(data, "CRENEAU_PUBLIC_URL", "public_url"):
            return data
        host = str(_given(data, "CRENEAU_HOST", "host") or "127.0.0.1")
        port = _given(data, "CRENEAU_PORT", "port") or 8000
        # Listening on every address: the links name this machine's loopback, not "0.0.0.0".
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return {**data, "public_url": f"http://{f'[{host}]' if ':' in host else host}:{port}"}

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:6379/0, rediss:// (TLS) or unix:///path/to/redis.sock")
        return value or None

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_shape(cls, value: str) -> str:
        value = value.strip()
        if value and not _is_time_range(value):
            raise ValueError("expected HH:MM-HH:MM, e.g. 20:00-08:00, or empty for none")
        return value

    @field_validator("waitlist_offer_hours")
    @classmethod
    def _offer_hours_shape(cls, value: str) -> str:
        value = value.strip()
        if value and not _is_time_range(value):
            raise ValueError("expected HH:MM-HH:MM, e.g. 09:00-19:00, or empty for any time")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_shape(cls, value: str) -> str:
        value = value.replace(" ", "")
        if value and not (_RATE_LIMIT.fullmatch(value) and int(value.split("/")[0]) >= 1):
            raise ValueError(
                "expected N/second, N/minute, N/hour or N/day (N >= 1), e.g. 600/minute, or empty"
            )
        return value

    @property
    def rate_limit_rule(self) -> tuple[str, int] | None:
        """``rate_limit`` as (unit, count), e.g. ("minute", 600); None when there is no limit."""
        if not self.rate_limit:
            return None
        count, unit = self.rate_limit.split("/")
        return unit, int(count)

    def check_sms(self, *, public_url_given: bool = True) -> None:
        """Refuse a Twilio backend that lacks what it needs (``public_url_given``: whether
        ``CRENEAU_PUBLIC_URL`` was set, rather than derived from the host and port)."""
        if self.sms_backend == "twilio":
            missing = [
                name
                for name, value in (
                    ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                    ("CRENEAU_TWILIO_SENDER", self.twilio_sender),
                )
                if not value
            ]
            if self.secret_key is None:
                # Real SMS carry page links: they must outlive a restart and agree across workers.
                missing.append("CRENEAU_SECRET_KEY")
            if not public_url_given:
                # The links in real SMS and Twilio's status callbacks must reach the service from
                # outside, whichever process wrote them: the address a process listens on does not.
                missing.append("CRENEAU_PUBLIC_URL (the address families and Twilio reach, e.g. "
                               "https://rdv.example.org)")
            if missing:
                raise SettingsError(f"CRENEAU_SMS_BACKEND=twilio needs {', '.join(missing)}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Defaults file, then ``CRENEAU_SETTINGS_FILE``, then the environment; validated."""
        values: dict[str, Any] = _read_toml(DEFAULTS_FILE) if DEFAULTS_FILE.exists() else {}
        extra_file = environ.get("CRENEAU_SETTINGS_FILE")
        if extra_file:
            values.update(_read_toml(Path(extra_file)))
        values.update({key: value for key, value in environ.items() if _is_ours(key)})
        # A misspelt name would otherwise leave its default in force without a word (quiet
        # hours, a rate limit...): every name given must be one we know.
        unknown = sorted(set(values) - cls.accepted_names() - NOT_SETTINGS)
        if unknown:
            raise SettingsError("unknown settings:\n" + "\n".join(f"  {_suggest(name, cls.accepted_names())}"
                                                                   for name in unknown))
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None
        settings.check_sms(public_url_given=_given(values, "CRENEAU_PUBLIC_URL", "public_url") is not None)
        return settings


    @classmethod
    def accepted_names(cls) -> frozenset[str]:
        """Every name a setting may have: ``CRENEAU_*`` in the environment, the field's name in TOML."""
        names: set[str] = set()
        for field in cls.model_fields.values():
            if isinstance(field.validation_alias, AliasChoices):
                names.update(choice for choice in field.validation_alias.choices if isinstance(choice, str))
        return frozenset(names)


def _is_ours(key: str) -> bool:
    return (key.startswith("CRENEAU_") and not key.startswith(TEST_PREFIX)) or key in {
        "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"}


def _suggest(name: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"{name}: not a setting" + (f" (did you mean {close[0]}?)" if close else "")


def _is_time_range(value: str) -> bool:
    parts = value.split("-")
    return len(parts) == 2 and all(_is_hhmm(part.strip()) for part in parts)


def _is_hhmm(value: str) -> bool:
    hours, _, minutes = value.partition(":")
    return (
        hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60 and len(minutes) == 2
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None


def _describe(exc: ValidationError) -> str:
    # Name the setting as the operator wrote it, and never echo a value (it may be a secret).
    lines = ["invalid settings:"]
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {name}: {error['msg']}")
    return "\n".join(lines)


def _given(data: Mapping[str, Any], *names: str) -> Any:
    """The first of a setting's names given a value (environment name or field name)."""
    return next((data[name] for name in names if data.get(name) not in (None, "")), None)
