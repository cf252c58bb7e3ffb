"""auth: user ids never reused on SQLite

SQLite gave a new account max(user_id) + 1, so once the newest account was deleted the next one got its
id, and with it the deleted account's still-valid access tokens and the other services' tombstones of
that id (meds then refused the new account's medications). MySQL/MariaDB: no change.

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-12-04
"""

from pillpal_shared.migrate import sqlite_autoincrement

revision = "auth_0002"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite_autoincrement("users")


def downgrade() -> None:
    sqlite_autoincrement("users", enabled=False)
