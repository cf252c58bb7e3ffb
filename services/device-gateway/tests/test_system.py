"""The gateway as `make run` and compose run it: gunicorn serving `pillpal_gateway.wsgi:app` and the worker
process (`python -m pillpal_gateway.worker`), against the real broker and database."""

import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest

from pillpal_shared.broker import free_port
from pillpal_shared.system import System

from .conftest import SimBox


@pytest.fixture
def system(tmp_path, broker, database_url, keys):
    env = {
        "DATABASE_URL": database_url,
        "MQTT_BROKER": broker.url,
        "JWT_PUBLIC_KEY": keys.public_pem,
        "LOG_LEVEL": "WARNING",
        "PILLPAL_VAR_DIR": str(tmp_path),
    }
    credentials = {
        "MQTT_USERNAME": "svc-device-gateway",
        "MQTT_PASSWORD": broker.passwords["svc-device-gateway"],
        "MQTT_CLIENT_ID": f"system-gateway-{uuid.uuid4().hex[:8]}",
    }
    running = System(
        env=env,
        services=["device-gateway"],
        var_dir=tmp_path,
        gateway="none",
        http_workers=1,
        ports={"device-gateway": free_port()},
        service_env={"device-gateway": credentials},
    )
    with running:
        yield running


def test_pair_over_http_then_the_worker_normalises_the_boxs_event(system, broker, box, user):
    request = urllib.request.Request(
        f"{system.service_url('device-gateway')}/api/devices/pair",
        data=json.dumps({"device_id": box.device_id, "pairing_code": box.pairing_code}).encode(),
        headers={"Content-Type": "application/json", **user[1]},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 201
    sim = SimBox(broker, "svc-ops")
    message = json.dumps({"event": "pill_taken", "timestamp": datetime.now(UTC).isoformat(), "seq": 1})
    got = []
    with broker.watch(f"pillpal/events/device/{box.device_id}/pill_taken") as watcher:
        for _ in range(30):  # until the worker has subscribed; a resend carries the same id
            sim.send(f"pillpal/device/{box.device_id}/events", message)
            got = watcher.collect(until=lambda items: items, wait=1.0)
            if got:
                break
    sim.close()
    assert got and got[0]["subject"] == {"device_id": box.device_id, "user_id": user[0]}
