"""Through the real broker and the real worker process: box events (as the gateway publishes them after
normalising form A and form B) close the right doses, exactly once, even across a kill -9."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pillpal_adherence.models import AdherenceUser, DoseEvent, DoseInstance
from pillpal_shared.bus import BusClient
from pillpal_shared.db import utcnow
from pillpal_shared.envelope import new_event


class Worker:
    """`pillpal-adherence-worker` as its own process, with a fixed client id (a persistent session)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {
            **os.environ,
            **env,
            "MQTT_CLIENT_ID": f"adherence-test-{uuid.uuid4().hex[:8]}",
            "LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pillpal_adherence.worker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def wait_for(check, timeout=60.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {check}")


@pytest.fixture
def live(world):
    world.use_clock(utcnow)  # real time: the worker's engine runs on the real clock
    return world


@pytest.fixture
def worker(env, live, broker):
    running = Worker(env).start()
    gateway = BusClient(broker.settings("svc-device-gateway")).start()
    probe = new_event(
        "user.updated",
        {"user_id": int(time.time() * 1000)},
        {"email": "p@x.org", "full_name": None, "timezone": "UTC"},
        source="auth",
    )
    gateway.confirm([gateway.publish_event(probe)])

    def probed():
        with live.db.transaction() as session:
            if session.get(AdherenceUser, probe.subject["user_id"]) is None:
                gateway.publish_event(probe)  # published before the worker subscribed: send again
                return False
            return True

    wait_for(probed, step=0.5)
    yield running, gateway
    gateway.stop()
    running.stop()


def box_event(device_id, user_id, at, form):
    raw = "lid_opened" if form == "B" else "pill_taken"
    data = {"raw_event": raw, "form": form, "received_at": at, "clock_skew": False}
    return new_event(
        "device.pill_taken", {"device_id": device_id, "user_id": user_id}, data, source="device-gateway", occurred_at=at
    )


def base_time() -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now


def test_form_a_and_form_b_close_the_right_doses_and_a_resend_counts_once(live, worker):
    _, gateway = worker
    user, device = live.user(), live.device()
    base = base_time()
    soon, later = (base + timedelta(minutes=5)).strftime("%H:%M"), (base + timedelta(minutes=50)).strftime("%H:%M")
    live.med(user, times=(soon, later), lead=5)
    doses = sorted(
        (d for d in live.doses(user) if d.scheduled_at < base + timedelta(hours=1)), key=lambda d: d.scheduled_at
    )
    assert len(doses) == 2
    now = datetime.now(UTC)
    lid = box_event(device, user, now, "B")  # the due dose (ringing) is the one the lid opening is for
    for _ in range(3):  # the same box message, three times
        gateway.confirm([gateway.publish_event(lid)])
    wait_for(lambda: live.doses(user)[0].status == "taken")
    pill = box_event(device, user, now + timedelta(seconds=1), "A")  # then the early one, 50 minutes ahead
    gateway.confirm([gateway.publish_event(pill)])
    wait_for(lambda: [d.status for d in live.doses(user)][:2] == ["taken", "taken"])
    time.sleep(0.5)  # let any stray copy arrive
    acks = [e for e in live.dose_events(user) if e.event_type == "ack_taken"]
    assert [(e.event_id, e.instance_id) for e in acks] == [
        (lid.id, doses[0].instance_id),
        (pill.id, doses[1].instance_id),
    ]


def test_consumer_killed_mid_stream_ends_with_exact_counts(live, worker, db):
    """Half the stream goes out and the worker is killed -9 as soon as it has committed some of it; the
    other half (with resends of the first) is published while it is down; a restart ends exact."""
    running, gateway = worker
    at = (base_time() + timedelta(minutes=10)).strftime("%H:%M")
    users = [live.user() for _ in range(400)]
    for user in users:
        live.med(user, times=(at,), lead=0)
    now = datetime.now(UTC)
    events = [box_event(live.device(), u, now, "A") for u in users]
    ids = [e.id for e in events]

    def recorded():
        with db.transaction() as session:
            return session.scalar(select(func.count()).select_from(DoseEvent).where(DoseEvent.event_id.in_(ids)))

    gateway.confirm([gateway.publish_event(e) for e in events[:200]])
    wait_for(lambda: recorded() > 0, step=0.002)
    running.kill()
    partial = recorded()
    gateway.confirm([gateway.publish_event(e) for e in events[150:]])  # 50 resends, 200 new
    running.start()  # the same client id: the broker delivers what was not acknowledged, and the rest
    wait_for(lambda: recorded() == len(events))
    time.sleep(1.0)  # any late duplicate would land now
    with db.transaction() as session:
        statuses = session.execute(
            select(DoseInstance.status, func.count())
            .where(DoseInstance.user_id.in_(users), DoseInstance.scheduled_at < now + timedelta(hours=1))
            .group_by(DoseInstance.status)
        ).all()
        acks = session.scalar(
            select(func.count())
            .select_from(DoseEvent)
            .where(DoseEvent.user_id.in_(users), DoseEvent.event_type == "ack_taken")
        )
    assert 0 < partial <= 200
    assert recorded() == 400 and acks == 400
    assert dict(statuses) == {"taken": 400}
    taken = [e for e in live.outbox_all("dose.taken") if e["subject"]["user_id"] in set(users)]
    assert len(taken) == 400 and len({e["subject"]["instance_id"] for e in taken}) == 400
