"""EventConsumer's batch handlers: a consecutive run of events goes to one call, order across types is
kept, and the inbox still drops duplicates (against the real MariaDB; no broker connection is needed)."""

import time

import pytest
from sqlalchemy import MetaData

from pillpal_shared.bus import Message
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database
from pillpal_shared.envelope import new_event
from pillpal_shared.outbox import Inbox, processed_events_table

metadata = MetaData()
INBOX = Inbox(processed_events_table(metadata, "batchtest"))


@pytest.fixture(scope="module")
def db(database_url):
    database = Database(database_url)
    metadata.create_all(database.engine)
    yield database
    metadata.drop_all(database.engine)
    database.dispose()


def message(envelope):
    return Message(envelope.topic, envelope.to_json(), 1, 1, False, 0, time.monotonic())


def test_runs_of_batch_handled_events_arrive_together_in_order(db, broker):
    calls = []

    def one(session, env):
        calls.append(("one", env.subject["user_id"]))

    def many(session, envs):
        calls.append(("many", [e.subject.get("user_id") for e in envs]))

    consumer = EventConsumer(
        "batchtest",
        db,
        broker.settings("svc-ops"),
        INBOX,
        {"user.deleted": one},
        batch_handlers={"user.updated": many, "settings.updated": many},
    )
    data = {"email": "a@b.c", "full_name": None, "timezone": "UTC"}
    upd = [new_event("user.updated", {"user_id": i}, data, source="test") for i in (1, 2, 3)]
    sett = new_event("settings.updated", {"user_id": 4}, {"sound": True, "vibration": True, "led": True}, source="t")
    dele = new_event("user.deleted", {"user_id": 5}, {}, source="test")
    batch = [upd[0], upd[1], sett, dele, upd[2], upd[0]]  # the last one is a duplicate
    consumer.handle([message(e) for e in batch])
    assert calls == [("many", [1, 2, 4]), ("one", 5), ("many", [3])]
    assert set(consumer.consumer.bus.subscriptions) == {
        "pillpal/events/user/+/deleted",
        "pillpal/events/user/+/updated",
        "pillpal/events/settings/+/updated",
    }
    calls.clear()
    consumer.handle([message(upd[1])])
    assert calls == []
