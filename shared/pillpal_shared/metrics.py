"""Prometheus metrics shared by every service.

When PROMETHEUS_MULTIPROC_DIR is set (gunicorn workers plus the MQTT worker of one service),
`/metrics` aggregates every process of that service. Each process writes its own files there, named
by host and pid: in compose the web and worker containers of a service share the directory and each
container's main process is pid 1, so the pid alone would collide.
"""

from __future__ import annotations

import os
import socket
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)


def process_identifier() -> str:
    """`<host>-<pid>`: distinct for every process writing one shared metrics directory."""
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before the first metric is made
    values.ValueClass = values.MultiProcessValue(process_identifier)

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
REMINDER_LATENESS = Histogram(
    "pillpal_reminder_lateness_seconds",
    "From a reminder's ring time (scheduled_at - lead_minutes, or the end of a snooze) to its dose.due "
    "entering the outbox; the relay's share is pillpal_outbox_lag_seconds",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


def observe_each(histogram: Histogram, amounts: Iterable[float]) -> None:
    """Observes every amount; equal amounts (a crowd of reminders released at one instant) are recorded
    in one update each, where a loop of observe() would cost about 7 ms per thousand in multiprocess mode."""
    for amount, count in Tally(amounts).items():
        if count == 1 or not hasattr(histogram, "_buckets"):
            for _ in range(count):
                histogram.observe(amount)
            continue
        histogram._raise_if_not_observable()
        histogram._sum.inc(amount * count)
        for i, bound in enumerate(histogram._upper_bounds):
            if amount <= bound:
                histogram._buckets[i].inc(count)
                break


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
