"""`make run`'s embedded brokers carry the bus: persistent sessions, QoS 1, acknowledgement after the handler."""

import threading
import time

import pytest

from pillpal_shared.bus import BatchConsumer, BusClient
from pillpal_shared.config import MqttSettings
from pillpal_shared.devrun import start_embedded_broker
from pillpal_shared.testing import free_port


@pytest.mark.parametrize("prefer_mosquitto", [True, False], ids=["mosquitto", "amqtt"])
def test_embedded_broker_carries_events(tmp_path, prefer_mosquitto):
    port = free_port()
    process, credentials, _ = start_embedded_broker(tmp_path, port, prefer_mosquitto)
    try:
        env = credentials["adherence"]

        def settings(client_id):
            return MqttSettings(
                host="127.0.0.1",
                port=port,
                tls=False,
                username=env.get("MQTT_USERNAME"),
                password=env.get("MQTT_PASSWORD"),
                client_id=client_id,
                share_group=None,
                protocol=env.get("MQTT_PROTOCOL", "5"),
                session_expiry=600,
            )

        seen = []
        consumer = BatchConsumer(
            settings("embedded-consumer"),
            name="t",
            subscriptions=["pillpal/events/user/+/deleted"],
            handle=lambda batch: seen.extend(m.payload for m in batch),
        ).start()
        stop = threading.Event()
        thread = threading.Thread(target=consumer.run, args=(stop,))
        thread.start()
        time.sleep(0.5)
        publisher = BusClient(settings("embedded-publisher")).start()
        publisher.confirm([publisher.publish(f"pillpal/events/user/{i}/deleted", b"x%d" % i) for i in range(20)])
        deadline = time.monotonic() + 10
        while len(seen) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join()
        publisher.stop()
        assert sorted(seen) == sorted(b"x%d" % i for i in range(20))
    finally:
        process.terminate()
        process.wait(timeout=10)
