"""adherence: dose instances, dose events, projections (users, medications, devices), outbox and inbox

Revision ID: adherence_0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pillpal_shared.db import UTCDateTime
from pillpal_shared.migrate import create_bus_tables, drop_bus_tables

revision = "adherence_0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "adherence_users",
        sa.Column("user_id", ID, primary_key=True, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "adherence_medications",
        sa.Column("med_id", ID, primary_key=True, autoincrement=False),
        sa.Column("user_id", ID, nullable=False, index=True),
        sa.Column("revision", sa.BigInteger, nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("repeat_type", sa.String(16), nullable=False),
        sa.Column("day_mask", sa.String(7), nullable=True),
        sa.Column("interval_days", sa.Integer, nullable=True),
        sa.Column("times", sa.String(32), nullable=False),
        sa.Column("custom_start", sa.Date, nullable=True),
        sa.Column("custom_end", sa.Date, nullable=True),
        sa.Column("active_start", sa.Date, nullable=True),
        sa.Column("active_end", sa.Date, nullable=True),
        sa.Column("lead_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("horizon_until", sa.Date, nullable=True, index=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "adherence_devices",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("user_id", ID, nullable=True, index=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "dose_instances",
        sa.Column("instance_id", ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("med_id", ID, nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="scheduled"),
        sa.Column("created_source", sa.String(16), nullable=False, server_default="schedule"),
        sa.Column("next_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True, index=True),
        sa.UniqueConstraint("med_id", "scheduled_at", name="uq_dose_instances_med_id"),
    )
    op.create_index("ix_dose_instances_user_day", "dose_instances", ["user_id", "local_date"])
    op.create_index("ix_dose_instances_user_time", "dose_instances", ["user_id", "scheduled_at"])
    op.create_table(
        "dose_events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("instance_id", ID, nullable=True, index=True),
        sa.Column("user_id", ID, nullable=True, index=True),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("meta", sa.Text, nullable=True),
    )
    create_bus_tables("adherence")


def downgrade() -> None:
    drop_bus_tables("adherence")
    op.drop_table("dose_events")
    op.drop_table("dose_instances")
    op.drop_table("adherence_devices")
    op.drop_table("adherence_medications")
    op.drop_table("adherence_users")
