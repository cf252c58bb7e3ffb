"""Meds on the real Mosquitto (the project's config): its events arrive once per change, and its
worker removes a deleted user's medications."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from pillpal_meds.handlers import event_handlers
from pillpal_meds.models import INBOX, OUTBOX
from pillpal_shared.bus import BusClient
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.envelope import new_event
from pillpal_shared.outbox import OutboxRelay


def test_upserted_and_deleted_arrive_once_per_change(client, db, broker, alice, med_body):
    watcher = broker.watch("pillpal/events/medication/#")
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    client.put(url, json=med_body(times=["09:00"]), headers=alice.headers)
    client.delete(url, headers=alice.headers)

    publisher = BusClient(broker.settings("svc-meds")).start()
    relay = OutboxRelay(db, OUTBOX.table, publisher)
    while relay.run_once():
        pass
    assert relay.run_once() == 0

    def ours(items):
        return [e for e in items if e["subject"]["med_id"] == med["med_id"]]

    got = ours(watcher.collect(until=lambda items: len(ours(items)) >= 3))
    publisher.stop()
    watcher.stop()
    assert [(e["type"], e["data"]["revision"]) for e in got] == [
        ("medication.upserted", 1),
        ("medication.upserted", 2),
        ("medication.deleted", 3),
    ]
    assert got[1]["data"]["schedule"]["times"] == ["09:00"]
    assert len({e["id"] for e in got}) == 3


def test_consumer_applies_user_deleted_once_even_when_delivered_twice(app, client, db, broker, alice, med_body):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    consumer = EventConsumer(
        "meds",
        db,
        broker.settings("svc-meds", f"test-meds-{uuid.uuid4().hex[:8]}"),
        INBOX,
        event_handlers(app.extensions["pillpal.meds"]),
    ).start()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    time.sleep(0.3)
    auth = BusClient(broker.settings("svc-auth")).start()
    deleted = new_event("user.deleted", {"user_id": alice.id}, {}, source="auth")
    auth.confirm([auth.publish_event(deleted), auth.publish_event(deleted)])

    deadline = time.monotonic() + 5
    while client.get("/api/medications", headers=alice.headers).get_json() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    stop.set()
    thread.join()
    auth.stop()
    assert client.get("/api/medications", headers=alice.headers).get_json() == []
    t = OUTBOX.table
    with db.engine.connect() as conn:
        rows = conn.execute(t.select().where(t.c.topic == f"pillpal/events/medication/{med['med_id']}/deleted"))
        assert len(rows.all()) == 1


def test_the_worker_process_turns_user_deleted_into_medication_deleted(
    client, meds_settings, broker, keys, alice, med_body
):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    watcher = broker.watch(f"pillpal/events/medication/{med['med_id']}/deleted")
    env = {
        **os.environ,
        "DATABASE_URL": meds_settings.common.database_url,
        "JWT_PUBLIC_KEY": keys.public_pem,
        "MQTT_BROKER": broker.url,
        "MQTT_USERNAME": "svc-meds",
        "MQTT_PASSWORD": broker.passwords["svc-meds"],
        "MQTT_CLIENT_ID": f"test-meds-worker-{uuid.uuid4().hex[:8]}",
        "LOG_FORMAT": "json",
    }
    worker = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "pillpal-meds-worker")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    auth = BusClient(broker.settings("svc-auth")).start()
    deleted = new_event("user.deleted", {"user_id": alice.id}, {}, source="auth")
    got: list = []
    try:
        # Until the worker has subscribed, a publish may find no one: resend the same event (same id)
        # until its effect shows; the inbox makes the copies harmless.
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            auth.confirm([auth.publish_event(deleted)])
            got = watcher.collect(until=lambda items: len(items) >= 1, wait=1.0)
        got += watcher.collect(wait=1.0)
    finally:
        auth.stop()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        watcher.stop()
    assert [(e["type"], e["subject"]) for e in got] == [
        ("medication.deleted", {"user_id": alice.id, "med_id": med["med_id"]})
    ]
    assert worker.returncode == 0
