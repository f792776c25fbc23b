"""SQLModel tables of the event history and of the webhooks that carry it out.

``event`` is append-only. Its ``seq`` is taken when the row is inserted, which on PostgreSQL is
not the order in which transactions commit: the feed therefore also keeps the writing
transaction's id (``xid``) and never reads past the oldest transaction still in flight (see
``scheduler.db.events``). SQLite serialises writers, so there ``seq`` alone is commit order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.db.tables import new_id

# An auto-incremented primary key on both databases: identity on PostgreSQL, the rowid on SQLite
# (which only aliases a column declared exactly INTEGER PRIMARY KEY).
SEQUENCE_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class Event(SQLModel, table=True):
    """One change to an appointment (or a pathway, a waiting-list entry), as its history and feed show it.

    Never holds a phone number: ``data`` is the appointment's view without the family's phone.
    """

    seq: int | None = Field(
        default=None, sa_column=Column(SEQUENCE_TYPE, primary_key=True, autoincrement=True)
    )
    id: str = Field(max_length=40, unique=True)
    """``evt_`` and 22 random characters: the ``webhook-id`` of every delivery of the event."""
    xid: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """PostgreSQL: the writing transaction's id (``pg_current_xact_id()``); null on SQLite."""
    type: str = Field(max_length=40)
    occurred_at: datetime
    actor_kind: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, max_length=64)
    actor_name: str | None = Field(default=None, max_length=200)
    appointment_id: str | None = Field(default=None, max_length=32, index=True)
    site_id: str | None = Field(default=None, max_length=32)
    pathway_id: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))

    __table_args__ = (
        Index("ix_event_xid_seq", "xid", "seq"),
        Index("ix_event_occurred_at", "occurred_at"),
    )


class WebhookEndpoint(SQLModel, table=True):
    """A URL that receives the events of some types, signed with its secret (stored encrypted)."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    api_key_id: str = Field(max_length=32, index=True)
    """The key that made it: only that key sees and changes it."""
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, max_length=500)
    disabled: bool = False
    disabled_reason: str | None = Field(default=None, max_length=40)
    """``gone`` (the receiver answered 410), ``failing`` (5 days of failures) or ``by-owner``."""
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    previous_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    previous_secret_expires_at: datetime | None = None
    failing_since: datetime | None = None
    """The first failed attempt since the last success: 5 days of that disables the endpoint."""
    created_at: datetime
    updated_at: datetime


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: the outbox row a delivery worker claims, and its log.

    One row per (endpoint, event): a retry or a replay puts the same row back in the queue, so
    the receiver sees the same ``webhook-id`` and the log keeps one line per event.
    """

    __tablename__ = "webhook_delivery"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", max_length=32, ondelete="CASCADE")
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=16)
    """``pending``, ``succeeded`` or ``failed``."""
    attempts: int = 0
    """Attempts since the delivery was last queued (a retry or a replay starts again at 0)."""
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    """Lease of the worker delivering it; past it, another worker may claim it again."""
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "endpoint_id", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "created_at"),
    )
