"""Prometheus metrics shared by every service.

When PROMETHEUS_MULTIPROC_DIR is set (gunicorn workers plus the MQTT worker of one service),
`/metrics` aggregates every process of that service.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_LATENCY = Histogram(
    "pillpal_http_request_duration_seconds",
    "HTTP request latency by route and status",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_IN = Counter("pillpal_events_in_total", "Bus or box messages received", ["kind"])
EVENTS_OUT = Counter("pillpal_events_out_total", "Events published", ["kind"])
EVENTS_REJECTED = Counter("pillpal_events_rejected_total", "Messages dead-lettered", ["reason"])
EVENTS_DUPLICATE = Counter("pillpal_events_duplicate_total", "Events skipped as already processed", ["kind"])
OUTBOX_LAG = Gauge(
    "pillpal_outbox_lag_seconds", "Age of the oldest unsent outbox row at the last relay pass", multiprocess_mode="max"
)
OUTBOX_PENDING = Gauge("pillpal_outbox_pending", "Unsent outbox rows at the last relay pass", multiprocess_mode="max")


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
