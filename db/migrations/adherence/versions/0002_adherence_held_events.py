"""adherence: reminders staged ahead of their time (held events)

Revision ID: adherence_0002
Revises: adherence_0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pillpal_shared.db import UTCDateTime

revision = "adherence_0002"
down_revision = "adherence_0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "adherence_held_events",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("instance_id", ID, nullable=False, index=True),
        sa.Column("user_id", ID, nullable=False, index=True),
        sa.Column("release_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("adherence_held_events")
