import queue
import random
import threading
import time
import uuid
from dataclasses import replace

import pytest

from pillpal_gateway.app import build_gateway, create_app
from pillpal_gateway.cli import register
from pillpal_gateway.config import load_settings
from pillpal_gateway.ingest.consumer import BoxIngest
from pillpal_gateway.models import INBOX, OUTBOX
from pillpal_shared.bus import BusClient
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import utcnow
from pillpal_shared.outbox import OutboxRelay


def gateway_environ(database_url, keys, broker, legacy=False):
    return {
        "DATABASE_URL": database_url,
        "JWT_PUBLIC_KEY": keys.public_pem,
        "MQTT_BROKER": broker.url,
        "MQTT_USERNAME": "svc-device-gateway",
        "MQTT_PASSWORD": broker.passwords["svc-device-gateway"],
        "MQTT_CLIENT_ID": f"gateway-test-{uuid.uuid4().hex[:8]}",
        "LOG_FORMAT": "console",
        "PILLPAL_LEGACY_DEVICES": "1" if legacy else "0",
    }


@pytest.fixture(scope="session")
def settings(database_url, keys, broker):
    return load_settings(gateway_environ(database_url, keys, broker))


@pytest.fixture(scope="session")
def app(settings):
    return create_app(settings)


@pytest.fixture(scope="session")
def legacy_app(database_url, keys, broker):
    return create_app(load_settings(gateway_environ(database_url, keys, broker, legacy=True)))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def legacy_client(legacy_app):
    return legacy_app.test_client()


@pytest.fixture(scope="session")
def db(app):
    return app.extensions["pillpal.db"]


def new_user(keys):
    """A fresh user: (user_id, Authorization header)."""
    user_id = random.randint(10**6, 10**9)
    return user_id, {"Authorization": f"Bearer {keys.signer().issue(user_id)}"}


@pytest.fixture
def user(keys):
    return new_user(keys)


@pytest.fixture
def other_user(keys):
    return new_user(keys)


def new_box_id():
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def box(db):
    """A freshly registered box: its id, MQTT password and pairing code."""
    return register(db, new_box_id(), hw_model="pi-zero", fw_version="1.0.0")


class Worker:
    """The gateway's worker parts (ingest, dose-event consumer, outbox relay) as threads of the test."""

    def __init__(self, settings, db, clock=utcnow):
        mqtt = replace(settings.common.mqtt, client_id=f"gw-test-{uuid.uuid4().hex[:8]}")
        self.gateway = build_gateway(settings, clock)
        self.ingest = BoxIngest(db, mqtt, self.gateway, clock=clock, client_id=f"{mqtt.client_id}-ingest").start()
        self.events = EventConsumer(
            "device-gateway", db, mqtt, INBOX, self.gateway.handlers(), client_id=f"{mqtt.client_id}-events"
        ).start()
        self.publisher = BusClient(mqtt, client_id=f"{mqtt.client_id}-relay").start()
        relay = OutboxRelay(db, OUTBOX.table, self.publisher, interval=0.02)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=part, args=(self.stop,), daemon=True)
            for part in (self.ingest.run, self.events.run, relay.run)
        ]
        for thread in self.threads:
            thread.start()

    def close(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        self.publisher.stop()


@pytest.fixture(scope="module")
def worker(settings, db):
    running = Worker(settings, db)
    yield running
    running.close()


class SimBox:
    """A pillbox as the firmware speaks: MQTT 3.1.1, clean session, its commands collected as text."""

    def __init__(self, broker, username, password=None, *, command_topics=(), will=None):
        base = broker.settings(username)
        self.settings = replace(
            base,
            password=password if password is not None else base.password,
            protocol="3.1.1",
            client_id=f"device_{uuid.uuid4().hex[:8]}",
        )
        self.commands = queue.Queue()
        acknowledged = queue.Queue()
        self.bus = BusClient(self.settings, subscriptions=list(command_topics), will=will)
        self.bus.client.on_message = lambda _c, _u, m: self.commands.put((m.topic, m.payload.decode()))
        self.bus.client.on_subscribe = lambda *_a: acknowledged.put(True)
        self.bus.start()
        for _ in command_topics:
            acknowledged.get(timeout=10)  # every subscription is in place

    def send(self, topic, payload, retain=False):
        if isinstance(payload, str):
            payload = payload.encode()
        self.bus.confirm([self.bus.publish(topic, payload, retain=retain)])

    def received(self, until, wait=10.0):
        """Commands received until `until(list)` holds (or `wait` runs out)."""
        got = []
        deadline = time.monotonic() + wait
        while not until(got) and time.monotonic() < deadline:
            try:
                got.append(self.commands.get(timeout=0.05))
            except queue.Empty:
                continue
        return got

    def close(self):
        self.bus.stop()
