"""Database.read(): the hot read path autocommits (no ROLLBACK on release) and survives a server-side
disconnect of an idle pooled connection."""

import time

from sqlalchemy import text

from pillpal_shared.db import Database


def test_read_autocommits_and_sends_no_rollback(database_url):
    db = Database(database_url, pool_size=1)
    try:
        for _ in range(3):
            with db.read() as conn:
                assert conn.execute(text("SELECT @@autocommit")).scalar() == 1
        with db.read() as conn:
            rollbacks = conn.execute(text("SHOW SESSION STATUS LIKE 'Com_rollback'")).one()[1]
        assert int(rollbacks) == 0
        assert db.reader is not db.engine
    finally:
        db.dispose()


def test_idle_connection_dropped_by_the_server_is_replaced(database_url):
    db = Database(database_url, pool_size=1, read_ping_idle=0.05)
    try:
        with db.read() as conn:
            connection_id = conn.execute(text("SELECT CONNECTION_ID()")).scalar()
        with db.engine.connect() as admin:
            admin.execute(text(f"KILL {int(connection_id)}"))
        time.sleep(0.1)
        with db.read() as conn:
            assert conn.execute(text("SELECT CONNECTION_ID()")).scalar() != connection_id
    finally:
        db.dispose()


def test_read_on_sqlite_uses_the_one_engine(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert db.reader is db.engine
    with db.read() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    db.dispose()
