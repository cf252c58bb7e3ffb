"""Calls 5-9 replayed as the Android app sends them, through the dev gateway of `make run` (auth and
meds under gunicorn with their workers, on the embedded SQLite default), and the account deletion
that removes the medications in every service."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from pillpal_shared.system import System, dev_keys
from pillpal_shared.testing import free_port

pytestmark = pytest.mark.e2e


def call(base: str, method: str, path: str, token: str | None = None, body: dict | None = None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def system(tmp_path, broker):
    credentials = {
        s: {
            "MQTT_USERNAME": f"svc-{s}",
            "MQTT_PASSWORD": broker.passwords[f"svc-{s}"],
            "MQTT_CLIENT_ID": f"e2e-{s}-{uuid.uuid4().hex[:8]}",
        }
        for s in ("auth", "meds")
    }
    env = {"MQTT_BROKER": broker.url, "LOG_LEVEL": "WARNING", "PILLPAL_VAR_DIR": str(tmp_path), **dev_keys(tmp_path)}
    running = System(
        env=env,
        services=["auth", "meds"],
        var_dir=tmp_path,
        gateway="dev",
        gateway_port=free_port(),
        ports={"auth": free_port(), "meds": free_port()},
        service_env=credentials,
    )
    with running:
        yield running


def test_the_apps_calls_through_the_gateway(system, broker):
    base = system.gateway_url
    status, registered = call(
        base, "POST", "/api/auth/register", body={"email": "e2e@example.com", "password": "pw-12345678"}
    )
    assert status == 201
    token = registered["token"]
    watcher = broker.watch("pillpal/events/medication/#")

    add = {
        "name": "Lisinopril",
        "notes": None,
        "schedule": {
            "repeat_type": "weekly",
            "day_mask": "0110010",
            "times": ["08:00", "15:30"],
            "custom_start": None,
            "custom_end": None,
        },
    }
    assert call(base, "POST", "/api/medications", token, add)[0] in (200, 201)  # 7
    status, listed = call(base, "GET", "/api/medications", token)  # 5
    assert status == 200 and len(listed) == 1
    med = listed[0]
    assert isinstance(med["med_id"], int) and med["schedule"]["times"] == ["08:00", "15:30"]
    assert med["schedule"]["day_mask"] == "0110010" and isinstance(med["schedule"]["lead_minutes"], int)
    assert call(base, "GET", f"/api/medications/{med['med_id']}", token) == (200, med)  # 6
    changed = {**add, "schedule": {**add["schedule"], "repeat_type": "daily", "day_mask": None, "times": ["09:00"]}}
    assert call(base, "PUT", f"/api/medications/{med['med_id']}", token, changed)[0] == 200  # 8
    assert call(base, "GET", f"/api/medications/{med['med_id']}", token)[1]["schedule"]["day_mask"] == "1111111"
    status, history = call(base, "GET", f"/api/medications/history?from=Bearer%20{token}", token)
    assert status == 404 and history["error"].startswith("No route")  # adherence's, not meds'
    assert call(base, "DELETE", f"/api/medications/{med['med_id']}", token)[0] == 200  # 9
    assert call(base, "GET", "/api/medications", token) == (200, [])

    # 4: deleting the account removes what the user owns in meds too, announced per medication.
    assert call(base, "POST", "/api/medications", token, add)[0] == 201
    second = call(base, "GET", "/api/medications", token)[1][0]["med_id"]
    assert call(base, "DELETE", "/api/auth/delete", token)[0] == 200

    def deleted(items):
        return [e for e in items if e["type"] == "medication.deleted" and e["subject"]["med_id"] == second]

    got = watcher.collect(until=lambda items: bool(deleted(items)), wait=20)
    watcher.stop()
    kinds = [(e["type"], e["subject"]["med_id"]) for e in got]
    assert kinds == [
        ("medication.upserted", med["med_id"]),
        ("medication.upserted", med["med_id"]),
        ("medication.deleted", med["med_id"]),
        ("medication.upserted", second),
        ("medication.deleted", second),
    ]
    assert call(base, "GET", "/api/medications", token) == (200, [])
