"""meds: medications, schedule rules, times, users projection, outbox and inbox

Revision ID: meds_0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pillpal_shared.db import UTCDateTime
from pillpal_shared.migrate import create_bus_tables, drop_bus_tables

revision = "meds_0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "medications",
        sa.Column("med_id", ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("notes", sa.String(2000), nullable=True),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_medications_user_id_med_id", "medications", ["user_id", "med_id"])
    op.create_table(
        "med_schedule_rules",
        sa.Column("rule_id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "med_id",
            ID,
            sa.ForeignKey("medications.med_id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("repeat_type", sa.String(16), nullable=False),
        sa.Column("day_mask", sa.CHAR(7), nullable=False, server_default="1111111"),
        sa.Column("interval_days", sa.SmallInteger, nullable=True),
        sa.Column("custom_start", sa.Date, nullable=True),
        sa.Column("custom_end", sa.Date, nullable=True),
        sa.Column("lead_minutes", sa.SmallInteger, nullable=False, server_default="5"),
    )
    op.create_table(
        "med_times",
        sa.Column(
            "rule_id",
            ID,
            sa.ForeignKey("med_schedule_rules.rule_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("hhmm", sa.Time, primary_key=True),
        sa.Column("sort_order", sa.SmallInteger, nullable=False),
    )
    op.create_table(
        "meds_users",
        sa.Column("user_id", ID, primary_key=True, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    )
    create_bus_tables("meds")


def downgrade() -> None:
    drop_bus_tables("meds")
    op.drop_table("meds_users")
    op.drop_table("med_times")
    op.drop_table("med_schedule_rules")
    op.drop_index("ix_medications_user_id_med_id", table_name="medications")
    op.drop_table("medications")
