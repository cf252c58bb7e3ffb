"""Meds' tables: medications, their schedule rule and its daily times, plus the time-zone projection.

The names follow the original schema (medications, med_schedule_rules, med_times). One rule per
medication today; `interval_days` leaves room for "every N days" later.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CHAR, BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String, Time
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pillpal_shared.db import UTCDateTime, new_metadata
from pillpal_shared.outbox import Inbox, Outbox, outbox_table, processed_events_table

ID = BigInteger().with_variant(Integer, "sqlite")
EVERY_DAY = "1111111"


class Base(DeclarativeBase):
    metadata = new_metadata()


class Medication(Base):
    __tablename__ = "medications"
    # sqlite_autoincrement: a deleted medication's id is never given again (adherence keeps its tombstone).
    __table_args__ = (Index("ix_medications_user_id_med_id", "user_id", "med_id"), {"sqlite_autoincrement": True})

    med_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(String(2000))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rule: Mapped[ScheduleRule] = relationship(
        back_populates="medication", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ScheduleRule(Base):
    __tablename__ = "med_schedule_rules"

    rule_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    med_id: Mapped[int] = mapped_column(ID, ForeignKey("medications.med_id", ondelete="CASCADE"), unique=True)
    repeat_type: Mapped[str] = mapped_column(String(16))
    day_mask: Mapped[str] = mapped_column(CHAR(7), default=EVERY_DAY)
    interval_days: Mapped[int | None] = mapped_column(SmallInteger)
    custom_start: Mapped[date | None] = mapped_column(Date)
    custom_end: Mapped[date | None] = mapped_column(Date)
    lead_minutes: Mapped[int] = mapped_column(SmallInteger, default=5)
    medication: Mapped[Medication] = relationship(back_populates="rule")
    times: Mapped[list[MedTime]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MedTime.sort_order", lazy="selectin"
    )


class MedTime(Base):
    __tablename__ = "med_times"

    rule_id: Mapped[int] = mapped_column(
        ID, ForeignKey("med_schedule_rules.rule_id", ondelete="CASCADE"), primary_key=True
    )
    hhmm: Mapped[time] = mapped_column(Time, primary_key=True)  # the primary key is unique (rule_id, hhmm)
    sort_order: Mapped[int] = mapped_column(SmallInteger)


class MedsUser(Base):
    """Meds' projection of auth's users: the IANA time zone (user.updated) and a tombstone
    (user.deleted), so that a token outliving its account cannot create medications again."""

    __tablename__ = "meds_users"

    user_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


OUTBOX = Outbox(outbox_table(Base.metadata, "meds"))
INBOX = Inbox(processed_events_table(Base.metadata, "meds"))
