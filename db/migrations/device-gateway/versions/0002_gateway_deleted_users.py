"""device-gateway: tombstones of deleted accounts

A deleted account's access token still verifies until it expires; without a tombstone it could pair a
box and save settings again after user.deleted had forgotten the account.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pillpal_shared.db import UTCDateTime

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_deleted_users",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_deleted_users")
