"""What an operator sees of the running system: /metrics on every service, aggregating the web processes
and the MQTT worker (PROMETHEUS_MULTIPROC_DIR per service), and a log trail from an API call's request id
to the events it caused and the services that applied them."""

from __future__ import annotations

import json
import random
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pillpal_shared.system import PACKAGES

from .client import App, eventually, request

pytestmark = pytest.mark.e2e


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
        text = response.read().decode()
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def total(samples, name: str, **labels: str) -> float:
    return sum(v for n, got, v in samples if n == name and labels.items() <= got.items())


def test_metrics_answer_on_every_service_with_the_workers_counters(system):
    app = App(system.gateway_url)
    app.register()  # auth: user.updated
    assert app.get("/api/medications").status == 200
    assert app.get("/api/calendar/day?date=2030-01-07").status == 200
    assert app.post("/api/devices/pair", {"device_id": str(random.randint(10**6, 10**9))}).status == 201
    assert app.call("DELETE", "/api/auth/delete").status == 200  # user.deleted, to meds, adherence, gateway

    counted = {
        "auth": [("pillpal_events_out_total", {"kind": "user.deleted"})],
        "meds": [("pillpal_events_in_total", {})],
        "adherence": [("pillpal_events_in_total", {})],
        "device-gateway": [("pillpal_events_in_total", {}), ("pillpal_events_out_total", {"kind": "pairing.created"})],
    }
    for service in PACKAGES:
        url = system.service_url(service)
        # The event counters live in the worker process; the web process's /metrics shows them.
        for name, labels in counted[service]:
            seen = lambda url=url, name=name, labels=labels: total(scrape(url), name, **labels) >= 1  # noqa: E731
            eventually(seen, f"{service}: {name}{labels}")
        samples = scrape(url)
        assert total(samples, "pillpal_http_request_duration_seconds_count") >= 1, service
        assert any(n == "pillpal_outbox_lag_seconds" for n, _, _ in samples), service
    adherence = scrape(system.service_url("adherence"))
    assert any(n == "pillpal_reminder_lateness_seconds_count" for n, _, _ in adherence)


def log_lines(path: Path) -> list[dict]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_request_id_leads_to_its_events_and_where_they_were_applied(system):
    app = App(system.gateway_url)
    app.register()
    request_id = f"trail-{uuid.uuid4().hex}"
    body = {"name": "Zinc", "notes": None, "schedule": {"repeat_type": "daily", "times": ["09:00"]}}
    headers = {"Authorization": f"Bearer {app.token}", "X-Request-ID": request_id}
    answer = request(system.gateway_url, "POST", "/api/medications", body, headers)
    assert answer.status == 201 and answer.headers["X-Request-ID"] == request_id
    logs = system.var_dir / "log"

    def staged():
        return [
            line
            for line in log_lines(logs / "meds.log")
            if line.get("request_id") == request_id and line["event"] == "events_staged"
        ]

    (line,) = eventually(staged, "meds logs the events of the request")
    assert line["service"] == "meds" and line["event_types"] == ["medication.upserted"]
    calls = [line for line in log_lines(logs / "meds.log") if line.get("request_id") == request_id]
    assert any(c["event"] == "http_request" and c["status"] == 201 for c in calls)
    (event_id,) = line["event_ids"]

    def applied():
        return [
            line
            for line in log_lines(logs / "adherence-worker.log")
            if line["event"] == "events_applied" and event_id in line["event_ids"]
        ]

    eventually(applied, "adherence logs that it applied the event")
