"""Adherence's tables: dose instances and dose events (its own), and projections of other services'
events (users' time zones, medications, device owners). It reads no other service's tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pillpal_shared.db import UTCDateTime, new_metadata
from pillpal_shared.outbox import Inbox, Outbox, outbox_table, processed_events_table

ID = BigInteger().with_variant(Integer, "sqlite")
OPEN = ("scheduled", "alerting", "snoozed")  # a dose still waiting for an answer
CLOSED = ("taken", "missed", "cancelled")


class Base(DeclarativeBase):
    metadata = new_metadata()


class AdherenceUser(Base):
    """From user.updated / user.deleted. A deleted user stays as a bare tombstone so late events are ignored."""

    __tablename__ = "adherence_users"

    user_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Medication(Base):
    """From medication.upserted / medication.deleted: the rule doses are generated from."""

    __tablename__ = "adherence_medications"

    med_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ID, index=True)
    revision: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    repeat_type: Mapped[str] = mapped_column(String(16))
    day_mask: Mapped[str | None] = mapped_column(String(7))
    interval_days: Mapped[int | None] = mapped_column(Integer)
    times: Mapped[str] = mapped_column(String(32))  # "08:00,20:00"
    custom_start: Mapped[date | None] = mapped_column(Date)
    custom_end: Mapped[date | None] = mapped_column(Date)
    active_start: Mapped[date | None] = mapped_column(Date)
    active_end: Mapped[date | None] = mapped_column(Date)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    horizon_until: Mapped[date | None] = mapped_column(Date, index=True)  # last local day materialised
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceOwner(Base):
    """From pairing.* and device.* events: who a box belongs to."""

    __tablename__ = "adherence_devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ID, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DoseInstance(Base):
    __tablename__ = "dose_instances"
    __table_args__ = (
        UniqueConstraint("med_id", "scheduled_at"),
        Index("ix_dose_instances_user_day", "user_id", "local_date"),
        Index("ix_dose_instances_user_time", "user_id", "scheduled_at"),
    )

    instance_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ID)
    med_id: Mapped[int] = mapped_column(ID)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # scheduled_at - lead_minutes
    local_date: Mapped[date] = mapped_column(Date)
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", the owner's wall clock
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_source: Mapped[str] = mapped_column(String(16), default="schedule")
    # when the reminder engine looks at this dose next; NULL once it is closed
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)


class DoseEvent(Base):
    """What happened to a dose: alert_started, ack_taken, snooze, miss, cancel. instance_id is NULL for a
    box event that matched no dose: it is kept, never lost."""

    __tablename__ = "dose_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ID, index=True)
    user_id: Mapped[int | None] = mapped_column(ID, index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # device, app or system
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    meta: Mapped[str | None] = mapped_column(Text)


class HeldEvent(Base):
    """A dose.due the engine staged ahead of its time; moved into the outbox at release_at (see held.py)."""

    __tablename__ = "adherence_held_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[int] = mapped_column(ID, index=True)
    user_id: Mapped[int] = mapped_column(ID, index=True)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)


OUTBOX = Outbox(outbox_table(Base.metadata, "adherence"))
INBOX = Inbox(processed_events_table(Base.metadata, "adherence"))
