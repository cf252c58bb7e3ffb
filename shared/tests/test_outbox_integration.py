"""Outbox, relay, inbox and the event consumer against the real MariaDB and Mosquitto."""

import json
import queue
import threading
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import MetaData, func, select

from pillpal_shared.bus import BusClient
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database
from pillpal_shared.envelope import REJECTED_TOPIC, new_event
from pillpal_shared.outbox import Inbox, Outbox, OutboxRelay, outbox_table, processed_events_table

metadata = MetaData()
OUTBOX = Outbox(outbox_table(metadata, "sharedtest"))
INBOX = Inbox(processed_events_table(metadata, "sharedtest"))


@pytest.fixture(scope="module")
def db(database_url):
    database = Database(database_url)
    metadata.create_all(database.engine)
    yield database
    metadata.drop_all(database.engine)
    database.dispose()


def watch(broker, topic):
    received = queue.Queue()
    client = BusClient(broker.settings("svc-ops"), subscriptions=[topic])
    client.client.on_message = lambda c, u, m: received.put(json.loads(m.payload))
    client.start()
    time.sleep(0.2)
    return client, received


def drain(received, wait=1.0):
    items = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            items.append(received.get(timeout=0.1))
        except queue.Empty:
            pass
    return items


def test_event_committed_while_relay_is_down_is_published_once(db, broker):
    watcher, received = watch(broker, "pillpal/events/user/+/deleted")
    event = new_event("user.deleted", {"user_id": 901}, {}, source="test")
    with db.transaction() as session:
        OUTBOX.add(session, event)  # the process "dies" here: committed, never published
    bus = BusClient(broker.settings("svc-auth")).start()
    relay = OutboxRelay(db, OUTBOX.table, bus)
    assert relay.run_once() >= 1
    assert relay.run_once() == 0
    bus.stop()
    got = [e for e in drain(received) if e["id"] == event.id]
    watcher.stop()
    assert len(got) == 1


def test_rolled_back_transaction_publishes_nothing(db, broker):
    event = new_event("user.deleted", {"user_id": 902}, {}, source="test")
    with pytest.raises(RuntimeError), db.transaction() as session:
        OUTBOX.add(session, event)
        raise RuntimeError("the state change failed")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(OUTBOX.table.c.event_id == event.id)) == 0


def test_relay_crash_after_publish_is_absorbed_by_the_inbox(db, broker):
    """The relay dies after the broker confirmed but before marking sent: the event goes out twice
    with one id, and a consumer applies it once."""
    applied = []
    consumer = EventConsumer(
        "sharedtest",
        db,
        broker.settings("svc-meds", "test-inbox-consumer"),
        INBOX,
        {"user.deleted": lambda session, env: applied.append(env.id)},
    ).start()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    time.sleep(0.3)

    event = new_event("user.deleted", {"user_id": 903}, {}, source="test")
    with db.transaction() as session:
        OUTBOX.add(session, event)
    bus = BusClient(broker.settings("svc-auth")).start()
    crashing = OutboxRelay(db, OUTBOX.table, bus)
    original = bus.confirm

    def confirm_then_die(infos, timeout=10.0):
        original(infos, timeout)
        raise SystemExit("killed after publish")

    bus.confirm = confirm_then_die
    with pytest.raises(SystemExit):
        crashing.run_once()
    bus.confirm = original
    assert OutboxRelay(db, OUTBOX.table, bus).run_once() >= 1
    deadline = time.monotonic() + 5
    while event.id not in applied and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    stop.set()
    thread.join()
    bus.stop()
    assert applied.count(event.id) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(INBOX.table.c.event_id == event.id)) == 1


def test_consumer_dead_letters_bad_input_and_carries_on(db, broker):
    watcher, rejected = watch(broker, REJECTED_TOPIC)
    applied = []

    def handler(session, env):
        if env.subject["user_id"] == 666:
            raise ValueError("poison")
        applied.append(env.subject["user_id"])

    consumer = EventConsumer(
        "sharedtest", db, broker.settings("svc-meds", "test-dlq-consumer"), INBOX, {"user.deleted": handler}
    ).start()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    time.sleep(0.3)
    bus = BusClient(broker.settings("svc-auth")).start()
    infos = [
        bus.publish("pillpal/events/user/1/deleted", b"not json"),
        bus.publish("pillpal/events/user/1/deleted", b'{"id": "x"}'),
        bus.publish_event(new_event("user.deleted", {"user_id": 666}, {}, source="test")),
        bus.publish_event(new_event("user.deleted", {"user_id": 777}, {}, source="test")),
    ]
    bus.confirm(infos)
    deadline = time.monotonic() + 5
    while 777 not in applied and time.monotonic() < deadline:
        time.sleep(0.05)
    reasons = [r["data"]["reason"] for r in drain(rejected, 1.0)]
    stop.set()
    thread.join()
    bus.stop()
    watcher.stop()
    assert applied == [777]
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("missing" in r for r in reasons)
    assert any(r.startswith("handler failed: ValueError") for r in reasons)


def test_relay_counts_published_events_by_type(db, broker):
    def sent(kind: str) -> float:
        return REGISTRY.get_sample_value("pillpal_events_out_total", {"kind": kind}) or 0.0

    before = {kind: sent(kind) for kind in ("user.deleted", "user.updated")}
    with db.transaction() as session:
        OUTBOX.add(session, *(new_event("user.deleted", {"user_id": n}, {}, source="test") for n in (911, 912)))
    bus = BusClient(broker.settings("svc-auth")).start()
    try:
        assert OutboxRelay(db, OUTBOX.table, bus).run_once() >= 2
    finally:
        bus.stop()
    assert sent("user.deleted") >= before["user.deleted"] + 2
    assert sent("user.updated") == before["user.updated"]
