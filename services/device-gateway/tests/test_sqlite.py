"""`make run` keeps the gateway on SQLite: the ingest's batch upsert and the pairing work there too."""

from datetime import UTC, datetime, timedelta

import pytest

from pillpal_gateway.cli import register
from pillpal_gateway.ingest import store
from pillpal_gateway.ingest.tracker import BoxChange
from pillpal_gateway.pairing import list_boxes, pair
from pillpal_shared.db import Database
from pillpal_shared.migrate import upgrade

T0 = datetime(2026, 12, 4, 8, tzinfo=UTC)


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("device-gateway", url)
    database = Database(url)
    yield database
    database.dispose()


def test_the_state_upsert_and_owner_lookup_on_sqlite(sqlite_db):
    issued = register(sqlite_db, "box-sqlite", fw_version="1.0")
    with sqlite_db.transaction() as session:
        assert pair(session, 5, "box-sqlite", issued.pairing_code, False, T0)
    with sqlite_db.transaction() as session:
        known = store.load(session, ["box-sqlite", "unknown"])
        store.save(session, [BoxChange("box-sqlite", True, False, T0, 80, -60, "1.1")])
    with sqlite_db.transaction() as session:
        store.save(session, [BoxChange("box-sqlite", True, True, T0 + timedelta(minutes=1))])
    assert list(known) == ["box-sqlite"] and known["box-sqlite"].owner_at(T0 + timedelta(hours=1)) == 5
    with sqlite_db.transaction() as session:
        (view,) = list_boxes(session, 5)
    assert (view.online, view.battery_percent, view.rssi, view.fw_version) == (True, 80, -60, "1.1")
    assert view.last_seen == T0 + timedelta(minutes=1)
