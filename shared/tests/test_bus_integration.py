"""The bus client against the real Mosquitto running the project's config."""

import json
import queue
import threading
import time

import pytest

from pillpal_shared.bus import BatchConsumer, BusClient, PublishFailed
from pillpal_shared.envelope import REJECTED_TOPIC


def collector(broker, topic):
    received = queue.Queue()
    client = BusClient(broker.settings("svc-ops"), subscriptions=[topic])
    client.client.on_message = lambda c, u, m: received.put((m.topic, m.payload))
    client.start()
    time.sleep(0.2)
    return client, received


def test_publish_is_confirmed(broker):
    bus = BusClient(broker.settings("svc-auth")).start()
    infos = [bus.publish(f"pillpal/events/user/{i}/deleted", b"{}") for i in range(50)]
    bus.confirm(infos, timeout=5)
    assert all(info.is_published() for info in infos)
    bus.stop()


def test_confirm_times_out_without_broker(broker):
    settings = broker.settings("svc-auth")
    bus = BusClient(settings.__class__(**{**settings.__dict__, "port": 1})).start(wait=0.5)
    info = bus.publish("pillpal/events/user/1/deleted", b"{}")
    with pytest.raises(PublishFailed):
        bus.confirm([info], timeout=0.5)
    bus.stop()


def test_wrong_password_is_refused(broker):
    settings = broker.settings("svc-auth")
    bus = BusClient(settings.__class__(**{**settings.__dict__, "password": "wrong"})).start(wait=1)
    assert not bus.connected
    bus.stop()


def test_dead_letter_carries_reason_and_bounded_payload(broker):
    watcher, received = collector(broker, REJECTED_TOPIC)
    bus = BusClient(broker.settings("svc-device-gateway")).start()
    bus.confirm([bus.dead_letter("test", "pillpal/device/x", b"\xff" * 5000, "not UTF-8")])
    topic, payload = received.get(timeout=5)
    body = json.loads(payload)
    assert body["type"] == "event.rejected"
    assert body["data"]["reason"] == "not UTF-8"
    assert body["data"]["payload_encoding"] == "base64"
    assert body["data"]["payload_size"] == 5000
    assert len(body["data"]["payload"]) < 2000
    watcher.stop()
    bus.stop()


def test_consumer_acknowledges_only_after_its_handler(broker):
    """A handler that fails keeps the batch unacknowledged; a restarted consumer gets it again."""
    topic = "pillpal/events/user/+/updated"
    client_id = "test-consumer-ack"
    seen = []
    failing = threading.Event()
    failing.set()

    def handle(batch):
        if failing.is_set():
            raise RuntimeError("database down")
        seen.extend(m.payload for m in batch)

    consumer = BatchConsumer(
        broker.settings("svc-adherence"),
        name="t",
        subscriptions=[topic],
        handle=handle,
        client_id=client_id,
        retry_delay=0.1,
    ).start()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    publisher = BusClient(broker.settings("svc-auth")).start()
    publisher.confirm([publisher.publish("pillpal/events/user/1/updated", b"one")])
    time.sleep(0.5)
    stop.set()  # the consumer "crashes" while its handler keeps failing
    thread.join()
    assert seen == []

    failing.clear()
    consumer = BatchConsumer(
        broker.settings("svc-adherence"), name="t", subscriptions=[topic], handle=handle, client_id=client_id
    ).start()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    publisher.stop()
    assert seen == [b"one"]
