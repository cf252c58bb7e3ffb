"""device-gateway: devices, pairings, device state, compartments, notification settings, dose alerts, outbox

Revision ID: gateway_0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pillpal_shared.db import UTCDateTime
from pillpal_shared.migrate import create_bus_tables, drop_bus_tables

revision = "gateway_0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _device_fk() -> sa.ForeignKey:
    return sa.ForeignKey("devices.device_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("hw_model", sa.String(64), nullable=True),
        sa.Column("fw_version", sa.String(32), nullable=True),
        sa.Column("nickname", sa.String(64), nullable=True),
        sa.Column("mqtt_password_hash", sa.String(255), nullable=True),
        sa.Column("pairing_code_hash", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "device_pairings",
        sa.Column("pairing_id", ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("device_id", sa.String(64), _device_fk(), nullable=False, index=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("active_device_id", sa.String(64), nullable=True, unique=True),
        sa.Column("paired_at", UTCDateTime(), nullable=False),
        sa.Column("unpaired_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_device_pairings_user_active", "device_pairings", ["user_id", "active"])
    op.create_table(
        "device_state",
        sa.Column("device_id", sa.String(64), _device_fk(), primary_key=True),
        sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_seen", UTCDateTime(), nullable=True),
        sa.Column("battery_percent", sa.SmallInteger, nullable=True),
        sa.Column("rssi", sa.SmallInteger, nullable=True),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "compartments",
        sa.Column("compartment_id", ID, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(64), _device_fk(), nullable=False),
        sa.Column("slot_number", sa.SmallInteger, nullable=False),
        sa.Column("label", sa.String(64), nullable=True),
        sa.UniqueConstraint("device_id", "slot_number", name="uq_compartments_device_slot"),
    )
    op.create_table(
        "notification_settings",
        sa.Column("user_id", ID, primary_key=True, autoincrement=False),
        sa.Column("sound_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("vibration_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("led_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("lead_minutes_default", sa.SmallInteger, nullable=False, server_default="5"),
        sa.Column("dyslexia_font", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "dose_alerts",
        sa.Column("instance_id", ID, primary_key=True, autoincrement=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("med_id", ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("last_event_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_dose_alerts_user_state", "dose_alerts", ["user_id", "state"])
    create_bus_tables("gateway")


def downgrade() -> None:
    drop_bus_tables("gateway")
    op.drop_index("ix_dose_alerts_user_state", "dose_alerts")
    op.drop_table("dose_alerts")
    op.drop_table("notification_settings")
    op.drop_table("compartments")
    op.drop_table("device_state")
    op.drop_index("ix_device_pairings_user_active", "device_pairings")
    op.drop_table("device_pairings")
    op.drop_table("devices")
