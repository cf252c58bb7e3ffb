"""What every benchmark needs: a throwaway MariaDB database, the project's broker, wrk, percentiles."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pillpal_shared.migrate import scratch_database
from pillpal_shared.testing import Broker, start_project_broker


def duration(default: float = 30.0) -> float:
    """BENCH_DURATION (seconds) shortens a run for a quick look."""
    return float(os.environ.get("BENCH_DURATION", default))


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh database on the local MariaDB (or BENCH_DB_HOST/PORT/USER/PASSWORD), migrated, dropped after."""
    host = os.environ.get("BENCH_DB_HOST", "127.0.0.1")
    port = os.environ.get("BENCH_DB_PORT", "3306")
    user = os.environ.get("BENCH_DB_USER", "root")
    password = os.environ.get("BENCH_DB_PASSWORD", "")
    auth = user + (f":{password}" if password else "")
    with scratch_database(f"mysql+pymysql://{auth}@{host}:{port}/", "pillpal_bench") as url:
        yield url


@contextmanager
def bench_broker(extra: dict[str, str] | None = None) -> Iterator[Broker]:
    """The project's Mosquitto config on a free port, in a temporary directory (`extra` overrides settings)."""
    workdir = Path(tempfile.mkdtemp(prefix="pillpal-bench-mqtt-"))
    broker = start_project_broker(workdir, extra)
    try:
        yield broker
    finally:
        assert broker.process is not None
        broker.process.terminate()
        broker.process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def service_credentials(broker: Broker) -> dict[str, dict[str, str]]:
    return {
        service: {"MQTT_USERNAME": f"svc-{service}", "MQTT_PASSWORD": broker.passwords[f"svc-{service}"]}
        for service in ("auth", "meds", "device-gateway", "adherence")
    }


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int

    def line(self, label: str) -> str:
        return f"{label}: {self.requests_per_second:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms" + (
            f", {self.errors} errors" if self.errors else ""
        )


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    headers: dict[str, str],
    seconds: float,
    threads: int = 2,
    connections: int = 16,
    script: str | None = None,
) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", url]
    if script:
        argv += ["-s", script]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps,
        _ms(*p50.groups()),  # type: ignore[union-attr]
        _ms(*p99.groups()),  # type: ignore[union-attr]
        int(errors.group(1)) if errors else 0,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
