"""meds: medication ids never reused on SQLite

SQLite gave a new medication max(med_id) + 1, so after the newest medication was deleted the next one
got its id, and adherence, which keeps the deleted one as a tombstone, ignored the new one: it never had
a dose. MySQL/MariaDB: no change.

Revision ID: meds_0002
Revises: meds_0001
Create Date: 2026-12-04
"""

from pillpal_shared.migrate import sqlite_autoincrement

revision = "meds_0002"
down_revision = "meds_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite_autoincrement("medications")


def downgrade() -> None:
    sqlite_autoincrement("medications", enabled=False)
