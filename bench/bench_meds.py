"""Meds: GET /api/medications through the gateway, for a user with 10 medications of 3 times each and
for one with 20 of 4.

Runs auth and meds under gunicorn (2 sync workers each) behind nginx rendered from the route table,
on a throwaway MariaDB database, with wrk (2 threads, 16 connections, 30 s; BENCH_DURATION shortens
it). BENCH_RUNS runs (default 3) per case; the median by throughput is reported, with every run and
how many cores' worth of CPU other work on the (shared) machine took meanwhile.
The original backend answered the 10 x 3 case at 259 req/s (p50 62 ms, p99 85 ms) on this machine.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from pathlib import Path

from bench.common import bench_broker, bench_database, duration, ensure_wrk, service_credentials, wrk
from bench.machine import OtherLoad
from pillpal_shared.system import System, dev_keys
from pillpal_shared.testing import free_port

CASES = ((10, 3), (20, 4))
TIMES = ("07:00", "12:30", "18:00", "22:15")


def call(url: str, body: dict, token: str | None = None) -> dict:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def user_with_medications(base: str, meds: int, times: int) -> str:
    """Registers a user and gives them `meds` medications of `times` times a day; returns the token."""
    token = call(f"{base}/api/auth/register", {"email": f"bench-{meds}x{times}@example.com", "password": "pw-123456"})[
        "token"
    ]
    for i in range(meds):
        body = {
            "name": f"Medication {i + 1}",
            "notes": "with water" if i % 2 else None,
            "schedule": {
                "repeat_type": "weekly" if i % 3 == 0 else "daily",
                "day_mask": "1010101" if i % 3 == 0 else None,
                "times": list(TIMES[:times]),
                "custom_start": None,
                "custom_end": None,
            },
        }
        call(f"{base}/api/medications", body, token)
    return token


def measure(url: str, token: str, seconds: float, label: str, runs: int) -> None:
    results = []
    for _ in range(runs):
        with OtherLoad() as load:
            result = wrk(url, {"Authorization": f"Bearer {token}"}, seconds)
        results.append((result, load.cores))
    median = sorted(results, key=lambda r: r[0].requests_per_second)[len(results) // 2][0]
    print(median.line(f"{label} (median of {runs})"), flush=True)
    for result, others in results:
        print(result.line("    run") + f"; other work on the machine meanwhile: {others:.2f} cores", flush=True)


def main() -> None:
    ensure_wrk()
    var = Path(tempfile.mkdtemp(prefix="pillpal-bench-meds-"))
    seconds, runs = duration(), int(os.environ.get("BENCH_RUNS", "3"))
    with bench_database() as url, bench_broker() as broker:
        system = System(
            env={"DATABASE_URL": url, "MQTT_BROKER": broker.url, "LOG_LEVEL": "WARNING", **dev_keys(var)},
            services=["auth", "meds"],
            var_dir=var,
            gateway="nginx",
            gateway_port=free_port(),
            ports={"auth": free_port(), "meds": free_port()},
            service_env=service_credentials(broker),
            rate_limit=False,
        )
        with system:
            base = system.gateway_url
            tokens = {case: user_with_medications(base, *case) for case in CASES}
            wrk(f"{base}/api/medications", {"Authorization": f"Bearer {tokens[CASES[0]]}"}, 2)  # warm-up
            for (meds, times), token in tokens.items():
                label = f"GET /api/medications, {meds} meds x {times} times, nginx, 2 sync workers"
                measure(f"{base}/api/medications", token, seconds, label, runs)
