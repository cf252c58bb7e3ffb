"""The device-gateway's slice of the schema: boxes, pairings, box state, compartments, notification
settings, and a local projection of dose alerts built from adherence's dose.* events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pillpal_shared.db import UTCDateTime, new_metadata
from pillpal_shared.outbox import Inbox, Outbox, outbox_table, processed_events_table

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Device(Base):
    """A registered box. Its MQTT username is its device id."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hw_model: Mapped[str | None] = mapped_column(String(64))
    fw_version: Mapped[str | None] = mapped_column(String(32))
    nickname: Mapped[str | None] = mapped_column(String(64))
    # The broker's own hash format ($7$ PBKDF2-SHA512), so the HTTP poll checks the same credentials.
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(255))
    pairing_code_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DevicePairing(Base):
    """Who holds a box, over time. `active_device_id` equals device_id while active and is NULL after: its
    unique index keeps at most one active pairing per box, on MySQL and SQLite alike."""

    __tablename__ = "device_pairings"
    __table_args__ = (Index("ix_device_pairings_user_active", "user_id", "active"),)

    pairing_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ID)
    device_id: Mapped[str] = mapped_column(String(64), ForeignKey("devices.device_id", ondelete="CASCADE"), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    active_device_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    unpaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeviceState(Base):
    __tablename__ = "device_state"

    device_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("devices.device_id", ondelete="CASCADE"), primary_key=True
    )
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    battery_percent: Mapped[int | None] = mapped_column(SmallInteger)
    rssi: Mapped[int | None] = mapped_column(SmallInteger)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Compartment(Base):
    __tablename__ = "compartments"
    __table_args__ = (UniqueConstraint("device_id", "slot_number", name="uq_compartments_device_slot"),)

    compartment_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), ForeignKey("devices.device_id", ondelete="CASCADE"))
    slot_number: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str | None] = mapped_column(String(64))


class NotificationSettings(Base):
    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    sound_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    vibration_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    led_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    lead_minutes_default: Mapped[int] = mapped_column(SmallInteger, default=5)
    dyslexia_font: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DoseAlert(Base):
    """The gateway's own view of a dose's alarm: alerting, snoozed or closed (from dose.* events)."""

    __tablename__ = "dose_alerts"
    __table_args__ = (Index("ix_dose_alerts_user_state", "user_id", "state"),)

    instance_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(ID)
    med_id: Mapped[int] = mapped_column(ID)
    state: Mapped[str] = mapped_column(String(16))  # alerting | snoozed | closed
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeletedUser(Base):
    """A tombstone from user.deleted: the account's access tokens still verify until they expire, and
    must not pair a box or save settings again after the account's data was forgotten."""

    __tablename__ = "gateway_deleted_users"

    user_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime())


OUTBOX = Outbox(outbox_table(Base.metadata, "gateway"))
INBOX = Inbox(processed_events_table(Base.metadata, "gateway"))
