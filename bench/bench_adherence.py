"""Adherence: box events per second into committed dose events, end-to-end latency at 200 events/s, and
reminder lateness with 10,000 doses due at the same moment.

Setup: a throwaway MariaDB database, the project's Mosquitto config on a free port
(BENCH_MQTT_AUTOSAVE_SECONDS=N replaces its save-every-second persistence by a save every N seconds,
to show what that setting costs), and every installed service started by `System` (gunicorn + worker
each; no HTTP gateway). Boxes are paired through the device gateway's own `pair()`; open doses are
written straight into adherence's tables (one medication per dose, ten minutes ahead, so a box event
taken early matches one). The CPU seconds each process spent are printed under every phase.

1. throughput, adherence alone: BENCH_ADHERENCE_EVENTS (default 20,000) normalised `device.pill_taken`
   envelopes from 5,000 boxes, published at once as the gateway would. Rate = events / (last dose event
   committed - first publish); "committed" is seen by polling dose_events every 20 ms.
2. latency, adherence alone: 2,000 envelopes at 200/s, publish -> dose event seen committed (polled
   every 5 ms, so up to 5 ms of it is polling).
3. and 4. the same two through the device gateway: raw box messages, half form A
   (`pillpal/device/<id>`, pill_taken) and half form B (`pillpal/device/events`, lid_opened).
5. reminders: BENCH_ADHERENCE_DUE (default 10,000) doses due at the same instant (lead 0); lateness =
   the dose.due's arrival at a subscriber - its due time (scheduled_at - lead_minutes).
A phase that does not finish within BENCH_ADHERENCE_PHASE_SECONDS (default 180) reports what it got.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import bench_broker, bench_database, percentile, service_credentials
from pillpal_adherence.models import OUTBOX, DoseEvent, DoseInstance, Medication
from pillpal_shared.broker import Broker, free_port
from pillpal_shared.bus import BusClient, PublishFailed
from pillpal_shared.db import Database, utcnow
from pillpal_shared.envelope import new_event, rfc3339
from pillpal_shared.system import System, dev_keys, installed_services

_next_id = [10_000_000]


def ids(n: int) -> list[int]:
    start = _next_id[0]
    _next_id[0] += n
    return list(range(start, start + n))


def open_doses(db: Database, users: list[int], per_user: int, at: datetime, lead: int = 0) -> None:
    """Medications and their open doses, written straight into adherence's tables (bench setup only); their
    horizon is far ahead, as in a steady state, so the horizon extender has nothing to do."""
    now = utcnow()
    meds = [(u, m) for u in users for m in ids(per_user)]
    with db.transaction() as session:
        for chunk in range(0, len(meds), 5000):
            part = meds[chunk : chunk + 5000]
            session.execute(
                insert(Medication),
                [
                    {
                        "med_id": m,
                        "user_id": u,
                        "revision": 1,
                        "name": f"Bench {m}",
                        "repeat_type": "once",
                        "times": at.strftime("%H:%M"),
                        "lead_minutes": lead,
                        "horizon_until": at.date() + timedelta(days=365),
                        "updated_at": now,
                    }
                    for u, m in part
                ],
            )
            session.execute(
                insert(DoseInstance),
                [
                    {
                        "user_id": u,
                        "med_id": m,
                        "scheduled_at": at,
                        "due_at": at - timedelta(minutes=lead),
                        "local_date": at.date(),
                        "local_time": at.strftime("%H:%M"),
                        "status": "scheduled",
                        "created_source": "schedule",
                        "next_at": at - timedelta(minutes=lead),
                    }
                    for u, m in part
                ],
            )


def paired_boxes(url: str, users: list[int]) -> dict[int, str]:
    from pillpal_gateway.pairing import pair

    db = Database(url)
    boxes = {u: f"bench-{u}" for u in users}
    yesterday = utcnow() - timedelta(days=1)
    for chunk in range(0, len(users), 500):
        with db.transaction() as session:
            for user in users[chunk : chunk + 500]:
                pair(session, user, boxes[user], None, True, yesterday)
    db.dispose()
    return boxes


def raw_message(device: str, at: datetime, form: str) -> tuple[str, bytes]:
    if form == "A":
        body = {"device_id": device, "event": "pill_taken", "timestamp": rfc3339(at)}
        return f"pillpal/device/{device}", json.dumps(body).encode()
    body = {"device_id": device, "event_type": "lid_opened", "source": "device", "timestamp": at.isoformat()}
    return "pillpal/device/events", json.dumps(body).encode()


def envelope_message(device: str, user: int, at: datetime) -> tuple[str, bytes]:
    data = {"raw_event": "pill_taken", "form": "A", "received_at": at, "clock_skew": False}
    event = new_event(
        "device.pill_taken", {"device_id": device, "user_id": user}, data, source="device-gateway", occurred_at=at
    )
    return event.topic, event.to_json()


class Committed:
    """Watches dose_events grow: the moment each row is first seen committed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as session:
            self.last = session.scalar(select(func.coalesce(func.max(DoseEvent.id), 0)))

    def poll(self) -> list[tuple[int, str, bool]]:
        with self.db.transaction() as session:
            rows = session.execute(
                select(DoseEvent.id, DoseEvent.device_id, DoseEvent.instance_id)
                .where(DoseEvent.id > self.last)
                .order_by(DoseEvent.id)
            ).all()
        if rows:
            self.last = rows[-1].id
        return [(r.id, r.device_id, r.instance_id is not None) for r in rows]


PHASE_SECONDS = float(os.environ.get("BENCH_ADHERENCE_PHASE_SECONDS", "180"))


def throughput(db: Database, publisher: BusClient, messages: list[tuple[str, bytes]]) -> str:
    """Publishes everything at once; the rate is events / (last dose event committed - first publish)."""
    committed = Committed(db)
    seen = matched = 0
    started = time.perf_counter()
    deadline = time.monotonic() + PHASE_SECONDS
    infos = [publisher.publish(topic, payload) for topic, payload in messages]
    try:
        publisher.confirm(infos, timeout=PHASE_SECONDS)
    except PublishFailed:
        pass  # the broker is behind: count what was committed in time
    while seen < len(messages) and time.monotonic() < deadline:
        rows = committed.poll()
        seen += len(rows)
        matched += sum(1 for r in rows if r[2])
        if seen < len(messages):
            time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if seen < len(messages):
        return f"INCOMPLETE: {seen:,} of {len(messages):,} in {elapsed:.0f} s, {seen / elapsed:,.0f} events/s"
    share = matched / len(messages)
    return f"{len(messages) / elapsed:,.0f} events/s ({len(messages):,} events, {share:.0%} matched a dose)"


def latency(db: Database, publisher: BusClient, messages: list[tuple[str, str, bytes]], rate: float) -> list[float]:
    committed = Committed(db)
    published: dict[str, float] = {}
    arrived: dict[str, float] = {}

    def publish() -> None:
        start = time.perf_counter()
        for n, (device, topic, payload) in enumerate(messages):
            wait = start + n / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            published[device] = time.perf_counter()
            publisher.publish(topic, payload)

    thread = threading.Thread(target=publish)
    thread.start()
    deadline = time.monotonic() + len(messages) / rate + PHASE_SECONDS
    while len(arrived) < len(messages) and time.monotonic() < deadline:
        for _, device, _ in committed.poll():
            arrived.setdefault(device, time.perf_counter())
        time.sleep(0.005)
    thread.join()
    return [(arrived[d] - published[d]) * 1000 for d in arrived if d in published]


def reminders(db: Database, broker: Broker, count: int) -> tuple[list[float], float]:
    got: list[float] = []
    done = threading.Event()

    def on_message(_client: object, _userdata: object, message: object) -> None:
        now = time.time()
        due_at = datetime.fromisoformat(json.loads(message.payload)["data"]["due_at"].replace("Z", "+00:00"))  # type: ignore[attr-defined]
        got.append(now - due_at.timestamp())
        if len(got) >= count:
            done.set()

    subscribed = threading.Event()
    watcher = BusClient(broker.settings("svc-ops"), subscriptions=["pillpal/events/dose/+/due"])
    watcher.client.on_message = on_message
    watcher.client.on_subscribe = lambda *_a: subscribed.set()
    watcher.start()
    subscribed.wait(10)
    due = (utcnow() + timedelta(seconds=20)).replace(microsecond=0)
    open_doses(db, ids(count), 1, due)
    done.wait(max(0.0, (due - utcnow()).total_seconds()) + PHASE_SECONDS)
    watcher.stop()
    return [s * 1000 for s in got], len(got)


def broker_for_bench():  # type: ignore[no-untyped-def]
    """The project's broker config; BENCH_MQTT_AUTOSAVE_SECONDS=N saves its persistence every N seconds
    instead of on every change (the project's setting), to show what that setting costs."""
    seconds = os.environ.get("BENCH_MQTT_AUTOSAVE_SECONDS")
    return bench_broker({"autosave_on_changes": "false", "autosave_interval": seconds} if seconds else None)


def figures(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "nothing arrived"
    p50, p99, top = percentile(values, 50), percentile(values, 99), max(values)
    return f"p50 {p50:,.1f} {unit}, p99 {p99:,.1f} {unit}, max {top:,.1f} {unit} ({len(values):,} samples)"


class Cpu:
    """CPU seconds each process of the run spent in a phase (services, their workers, broker, MariaDB)."""

    def __init__(self, system: System, broker: Broker) -> None:
        self.pids = {p.name: p.popen.pid for p in system.processes if p.popen is not None}
        if broker.process is not None:
            self.pids["mosquitto"] = broker.process.pid
        mariadb = subprocess.run(["pidof", "mariadbd", "mysqld"], capture_output=True, text=True).stdout.split()
        if mariadb:
            self.pids["mariadb"] = int(mariadb[0])
        self.before = self.read()

    def read(self) -> dict[str, float]:
        found = {}
        for name, pid in self.pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[name] = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # with children
        return found

    def line(self) -> str:
        now = self.read()
        spent = sorted(((now[n] - self.before.get(n, 0.0), n) for n in now), reverse=True)
        self.before = now
        return "    CPU-s: " + ", ".join(f"{n} {s:.1f}" for s, n in spent if s >= 0.1)


def settle(db: Database, seconds: float = 3.0) -> None:
    """Lets the previous phase's tail (outbox relays, downstream consumers) finish."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with db.transaction() as session:
            if not session.scalar(
                select(func.count()).select_from(OUTBOX.table).where(OUTBOX.table.c.sent_at.is_(None))
            ):
                break
        time.sleep(0.2)
    time.sleep(seconds)


def main() -> None:
    count = int(os.environ.get("BENCH_ADHERENCE_EVENTS", "20000"))
    due_count = int(os.environ.get("BENCH_ADHERENCE_DUE", "10000"))
    var_dir = Path(tempfile.mkdtemp(prefix="pillpal-bench-adherence-"))
    with bench_database() as url, broker_for_bench() as broker:
        services = installed_services()
        env = {"DATABASE_URL": url, "MQTT_BROKER": broker.url, "LOG_LEVEL": "WARNING", "PILLPAL_LEGACY_DEVICES": "1"}
        system = System(
            env={**env, **dev_keys(var_dir)},
            services=services,
            var_dir=var_dir,
            gateway="none",
            http_workers=1,
            ports={s: free_port() for s in services},
            service_env=service_credentials(broker),
        )
        db = Database(url)
        try:
            with system:
                run_phases(system, broker, db, url, count, due_count)
        finally:
            db.dispose()
            shutil.rmtree(var_dir, ignore_errors=True)


def run_phases(system: System, broker: Broker, db: Database, url: str, count: int, due_count: int) -> None:
    through_gateway = "device-gateway" in system.services
    publisher = BusClient(replace(broker.settings("svc-ops"), protocol="3.1.1")).start()
    time.sleep(2.0)  # the workers subscribe
    autosave = os.environ.get("BENCH_MQTT_AUTOSAVE_SECONDS")
    broker_note = f"broker autosave every {autosave} s" if autosave else "the project's broker config"
    print(f"services: {', '.join(system.services)}; {os.cpu_count()} cores; QoS 1; {broker_note}")
    cpu = Cpu(system, broker)
    soon, now = utcnow() + timedelta(minutes=10), utcnow()
    cohort = min(5000, count)
    at = [now + timedelta(milliseconds=i) for i in range(count)]

    def phase(label: str, run: Callable[[], str]) -> None:
        settle(db)
        cpu.line()
        print(f"{label}: {run()}")
        print(cpu.line())

    users = ids(cohort)
    open_doses(db, users, -(-count // cohort), soon)
    msgs = [envelope_message(f"bench-{users[i % cohort]}", users[i % cohort], at[i]) for i in range(count)]
    phase(
        "box events, normalised envelope -> committed dose event (adherence alone)",
        lambda: throughput(db, publisher, msgs),
    )
    users = ids(2000)
    open_doses(db, users, 1, soon)
    paced = [(f"bench-{u}", *envelope_message(f"bench-{u}", u, now)) for u in users]
    phase(
        "latency at 200 events/s, envelope publish -> committed dose event",
        lambda: figures(latency(db, publisher, paced, 200.0)),
    )
    if through_gateway:
        users = ids(cohort)
        boxes = paired_boxes(url, users)
        open_doses(db, users, -(-count // cohort), soon)
        raw = [raw_message(boxes[users[i % cohort]], at[i], "AB"[i % 2]) for i in range(count)]
        phase(
            "box events, box publish (forms A, B) -> gateway -> committed dose event",
            lambda: throughput(db, publisher, raw),
        )
        users = ids(2000)
        open_doses(db, users, 1, soon)
        boxes = paired_boxes(url, users)
        paced = [(boxes[u], *raw_message(boxes[u], now, "A")) for u in users]
        phase(
            "latency at 200 events/s, box publish -> gateway -> committed dose event",
            lambda: figures(latency(db, publisher, paced, 200.0)),
        )

    def due() -> str:
        lateness, arrived = reminders(db, broker, due_count)
        return f"{figures(lateness)} ({arrived:,} of {due_count:,} arrived)" if lateness else "none arrived"

    phase(f"reminder lateness, {due_count:,} doses due at one instant, due time -> dose.due received", due)
    publisher.stop()


if __name__ == "__main__":
    main()
