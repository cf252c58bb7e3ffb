"""`user.deleted` reaches the bus exactly once, even when the process dies between the commit and the
publish: the row waits in the outbox, and the relay (the real worker process) sends it when it runs.

A relay killed after the broker confirmed but before it marked the row sent sends it again with the
same envelope id; consumers drop that copy (shared/tests/test_outbox_integration.py proves it)."""

import json
import os
import queue
import subprocess
import sys
import time

from sqlalchemy import select

from pillpal_auth.models import OUTBOX
from pillpal_shared.bus import BusClient

from .conftest import auth_environ, bearer


def wait_until_marked_sent(app, user_id):
    table = OUTBOX.table
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.extensions["pillpal.db"].transaction() as session:
            rows = session.execute(
                select(table.c.payload, table.c.sent_at).where(table.c.event_type == "user.deleted")
            ).all()
        if any(f'"user_id":{user_id}' in r.payload and r.sent_at is not None for r in rows):
            return
        time.sleep(0.1)
    raise AssertionError("the relay never marked the event sent")


def start_worker(environ):
    return subprocess.Popen(
        [sys.executable, "-m", "pillpal_auth.worker"],
        env={**os.environ, **environ, "MQTT_CLIENT_ID": "pillpal-auth-test-worker"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_user_deleted_is_published_once_across_a_crash(app, client, registered, database_url, keys, broker):
    received = queue.Queue()
    watcher = BusClient(broker.settings("svc-ops"), subscriptions=["pillpal/events/user/+/deleted"])
    watcher.client.on_message = lambda c, u, m: received.put(json.loads(m.payload))
    watcher.start()

    token = registered[2]
    user_id = client.get("/api/auth/me", headers=bearer(token)).json["user_id"]
    # Committed while no relay runs: the moment a crash between commit and publish would leave.
    assert client.delete("/api/auth/delete", headers=bearer(token)).status_code == 200

    environ = auth_environ(database_url, keys, broker)
    worker = start_worker(environ)
    mine = []
    deadline = time.monotonic() + 15
    while not mine and time.monotonic() < deadline:
        try:
            event = received.get(timeout=0.2)
        except queue.Empty:
            continue
        if event["subject"]["user_id"] == user_id:
            mine.append(event)
    wait_until_marked_sent(app, user_id)
    worker.kill()  # a crash of the relay after it finished: nothing is sent again
    worker.wait()
    worker = start_worker(environ)
    time.sleep(2.0)
    worker.terminate()
    worker.wait()
    while not received.empty():
        event = received.get()
        if event["subject"]["user_id"] == user_id:
            mine.append(event)
    watcher.stop()
    assert len(mine) == 1
    assert mine[0]["type"] == "user.deleted" and mine[0]["source"] == "auth"
