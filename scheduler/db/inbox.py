"""The inbox table: one row per reply received from a family."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from scheduler.db.tables import new_id


class InboundMessage(SQLModel, table=True):
    """A reply received; its text is kept only when no keyword was recognised (staff read it)."""

    __tablename__ = "inbound_message"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    provider_id: str = Field(max_length=64, unique=True)
    family_id: str | None = Field(default=None, max_length=32, index=True)
    appointment_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=16)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime
