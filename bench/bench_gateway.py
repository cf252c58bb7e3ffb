"""Device gateway: box events normalised per second, from the box's publish to the normalised event on
the bus, against the raw broker rate of a plain relay of the same messages (QoS 1), and their ratio.

Setup: the project's Mosquitto config on a free port, a throwaway MariaDB database, 30 registered and
paired boxes. One publisher (the boxes) sends BENCH_GATEWAY_MESSAGES (default 20,000) QoS 1 box events,
a third each in form A, form B and the per-device form, as fast as paho lets it. An observer counts
what arrives downstream; the rate is messages / (last arrival - first publish).

- gateway: the real worker process (`python -m pillpal_gateway.worker`): BatchConsumer, parse and
  validate, owner lookup and one device-state upsert per batch on MariaDB, envelope built with
  new_event, published QoS 1 and confirmed before the batch is acknowledged.
- relay: a process running the same BatchConsumer that republishes each payload unchanged (QoS 1,
  confirmed, then acknowledged): the broker and the Python client without the gateway's work.

BENCH_RUNS runs (default 3) of each, alternating; the median is reported, with every run and the
CPU seconds each subscriber process spent.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import bench_broker, bench_database
from pillpal_shared.broker import Broker, start_project_broker
from pillpal_shared.bus import BusClient
from pillpal_shared.tokens import generate_keypair

ROOT = Path(__file__).resolve().parents[1]
BOXES = 30
RELAY_ROOT = "pillpal/events/relay"


def relay() -> None:
    """The plain relay (run in its own process): box messages republished unchanged, then acknowledged."""
    from pillpal_shared.bus import BatchConsumer
    from pillpal_shared.config import Env, mqtt_settings
    from pillpal_shared.worker import run_parts

    settings = mqtt_settings(Env(), "bench-relay")
    holder: dict[str, BatchConsumer] = {}

    def handle(batch):  # type: ignore[no-untyped-def]
        bus = holder["consumer"].bus
        bus.confirm([bus.publish(f"{RELAY_ROOT}/{m.topic}", m.payload) for m in batch])

    holder["consumer"] = BatchConsumer(
        settings,
        name="bench-relay",
        subscriptions=["pillpal/device/+", "pillpal/device/+/events"],
        handle=handle,
    ).start()
    run_parts({"relay": holder["consumer"].run})


def publish_main() -> None:
    """The boxes (run in its own process): waits for a line on stdin, then publishes every message of
    BENCH_MESSAGES_FILE (QoS 1) and prints the wall time it started and how long the PUBACKs took."""
    from pillpal_shared.config import Env, mqtt_settings
    from pillpal_shared.logs import configure_logging

    configure_logging("bench-boxes", "console", "WARNING")  # stdout carries only the report
    batch = [
        (topic, payload.encode()) for topic, payload in json.loads(Path(os.environ["BENCH_MESSAGES_FILE"]).read_text())
    ]
    publisher = BusClient(mqtt_settings(Env(), "bench-boxes")).start()
    sys.stdin.readline()
    started, clock = time.time(), time.perf_counter()
    publisher.confirm([publisher.publish(topic, payload) for topic, payload in batch], timeout=600)
    print(json.dumps({"started": started, "published": time.perf_counter() - clock}), flush=True)
    publisher.stop()


def boxes_paired(database_url: str) -> list[str]:
    from pillpal_gateway.cli import register
    from pillpal_gateway.pairing import pair
    from pillpal_shared.db import Database, utcnow

    db = Database(database_url)
    ids = []
    for n in range(BOXES):
        issued = register(db, f"bench-{n}")
        with db.transaction() as session:
            pair(session, 1000 + n, issued.device_id, issued.pairing_code, False, utcnow() - timedelta(days=1))
        ids.append(issued.device_id)
    db.dispose()
    return ids


def messages(ids: list[str], count: int, run: int) -> list[tuple[str, str]]:
    start = datetime.now(UTC) - timedelta(hours=1)
    out = []
    for i in range(count):
        device = ids[i % len(ids)]
        stamp = (start + timedelta(milliseconds=i, seconds=run * 3600 // 5)).isoformat()
        form = i % 3
        if form == 0:
            out.append((f"pillpal/device/{device}", {"device_id": device, "event": "pill_taken", "timestamp": stamp}))
        elif form == 1:
            out.append(("pillpal/device/events", {"device_id": device, "event_type": "lid_opened", "timestamp": stamp}))
        else:
            out.append((f"pillpal/device/{device}/events", {"event": "pill_taken", "timestamp": stamp, "seq": i}))
    return [(topic, json.dumps(body)) for topic, body in out]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Observer:
    def __init__(self, broker: Broker, topic: str) -> None:
        self.count = 0
        self.target = 0
        self.done = threading.Event()
        self.last = 0.0
        subscribed = threading.Event()
        self.bus = BusClient(broker.settings("svc-ops"), subscriptions=[topic])
        self.bus.client.on_message = self._on_message
        self.bus.client.on_subscribe = lambda *_a: subscribed.set()
        self.bus.start()
        subscribed.wait(10)

    def _on_message(self, *_args: object) -> None:
        self.count += 1
        self.last = time.time()
        if self.count >= self.target:
            self.done.set()

    def expect(self, target: int) -> None:
        self.count, self.target = 0, target
        self.done.clear()


def run_once(broker: Broker, env: dict[str, str], argv: list[str], watch: str, batch: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """One run: the subscriber process and the publisher process started, warmed up, then the burst."""
    observer = Observer(broker, watch)
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warm = BusClient(broker.settings("svc-ops")).start()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(batch[1:], handle)
    boxes_env = {
        **env,
        "MQTT_USERNAME": "svc-ops",
        "MQTT_PASSWORD": broker.passwords["svc-ops"],
        "MQTT_PROTOCOL": "3.1.1",
        "MQTT_CLIENT_ID": f"bench-boxes-{uuid.uuid4().hex[:6]}",
        "BENCH_MESSAGES_FILE": handle.name,
    }
    boxes = subprocess.Popen(
        [sys.executable, "-c", "from bench.bench_gateway import publish_main; publish_main()"],
        env=boxes_env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        observer.expect(1)  # warm-up: the subscriber is connected, subscribed and has its database pool
        deadline = time.monotonic() + 60
        while not observer.done.is_set() and time.monotonic() < deadline:
            warm.confirm([warm.publish(batch[0][0], batch[0][1].encode())])
            observer.done.wait(1.0)
        if not observer.done.is_set():
            raise RuntimeError(f"{argv[-1]} never answered")
        time.sleep(1.0)
        observer.expect(len(batch) - 1)
        cpu_before = cpu_seconds(process.pid)
        assert boxes.stdin is not None and boxes.stdout is not None
        boxes.stdin.write("go\n")
        boxes.stdin.flush()
        report = json.loads(boxes.stdout.readline())
        if not observer.done.wait(600):
            raise RuntimeError(f"only {observer.count} of {len(batch) - 1} arrived")
        cpu = cpu_seconds(process.pid) - cpu_before
        count = len(batch) - 1
        return count / (observer.last - report["started"]), count / report["published"], cpu
    finally:
        boxes.wait(timeout=60)
        process.terminate()
        process.wait(timeout=20)
        warm.stop()
        observer.bus.stop()
        os.unlink(handle.name)


def measure(broker: Broker, database_url: str, ids: list[str], count: int, runs: int, public_key: str) -> None:
    base = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MQTT_BROKER": broker.url,
        "MQTT_USERNAME": "svc-device-gateway",
        "MQTT_PASSWORD": broker.passwords["svc-device-gateway"],
        "MQTT_SESSION_EXPIRY": "0",  # a stopped subscriber's session must not keep queueing copies
        "JWT_PUBLIC_KEY": public_key,
        "LOG_LEVEL": "WARNING",
    }
    results: dict[str, list[tuple[float, float, float]]] = {"relay": [], "gateway": []}
    for run in range(runs):
        batch = messages(ids, count + 1, run)
        for name in ("relay", "gateway"):
            env = {**base, "MQTT_CLIENT_ID": f"bench-{name}-{uuid.uuid4().hex[:6]}"}
            if name == "relay":
                argv = [sys.executable, "-c", "from bench.bench_gateway import relay; relay()"]
                watch = f"{RELAY_ROOT}/#"
            else:
                argv = [sys.executable, "-m", "pillpal_gateway.worker"]
                watch = "pillpal/events/device/+/pill_taken"
            results[name].append(run_once(broker, env, argv, watch, batch))
    medians = {}
    for name, rows in results.items():
        medians[name] = statistics.median(r[0] for r in rows)
        every = ", ".join(f"{r[0]:,.0f}" for r in rows)
        cpu = statistics.median(r[2] for r in rows) / count * 10_000
        acked = statistics.median(r[1] for r in rows)
        print(
            f"    {name:<8} {medians[name]:>7,.0f} events/s from publish to downstream (runs: {every}); "
            f"subscriber {cpu:.2f} CPU-s per 10k; boxes' PUBACKs at {acked:,.0f} msg/s",
            flush=True,
        )
    print(f"    ratio gateway / raw relay: {medians['gateway'] / medians['relay']:.2f} (goal >= 0.5)", flush=True)


def main() -> None:
    durable = int(os.environ.get("BENCH_GATEWAY_MESSAGES", "5000"))
    relaxed = int(os.environ.get("BENCH_GATEWAY_MESSAGES_RELAXED", "20000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    _, public = generate_keypair()
    print(f"box events (QoS 1) from {BOXES} paired boxes, a third each in form A, form B and per-device; {runs} runs")
    with bench_database() as database_url:
        ids = boxes_paired(database_url)
        with bench_broker() as broker:
            print(f"  project broker config (persistence saved on every change), {durable:,} events:", flush=True)
            measure(broker, database_url, ids, durable, runs, public)
        workdir = Path(tempfile.mkdtemp(prefix="pillpal-bench-mqtt-"))
        broker = start_project_broker(workdir, {"autosave_on_changes": "false", "autosave_interval": "1800"})
        try:
            print(f"  same config but the broker saves every 1800 s (the Python cost alone), {relaxed:,} events:")
            measure(broker, database_url, ids, relaxed, runs, public)
        finally:
            assert broker.process is not None
            broker.process.terminate()
            broker.process.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
