"""Fixtures of the adherence tests: the session's MariaDB, a movable clock, and a `world` that feeds
events through the real consumer code (inbox, batch handlers) and reads back doses, dose events and the
outbox. Fake clocks live in 2030, so a real-time engine in another test never touches their doses."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pillpal_adherence.config import load_settings
from pillpal_adherence.handlers import build_consumer
from pillpal_adherence.models import OUTBOX, DoseEvent, DoseInstance
from pillpal_shared.bus import Message
from pillpal_shared.db import Database
from pillpal_shared.envelope import new_event, parse_envelope


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def fresh_id() -> int:
    return random.randint(10**6, 10**12)


@pytest.fixture(scope="session")
def env(database_url, keys, broker):
    return {
        "DATABASE_URL": database_url,
        "JWT_PUBLIC_KEY": keys.public_pem,
        "MQTT_BROKER": broker.url,
        "MQTT_USERNAME": "svc-adherence",
        "MQTT_PASSWORD": broker.passwords.get("svc-adherence", ""),
        "LOG_FORMAT": "console",
        "ADHERENCE_HORIZON_DAYS": "3",
    }


@pytest.fixture(scope="session")
def settings(env):
    return load_settings(env)


@pytest.fixture(scope="session")
def db(settings):
    database = Database(settings.common.database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock():
    return FakeClock(datetime(2030, 1, 7, 6, 0, tzinfo=UTC))  # a Monday


class World:
    """Events in through the consumer's own code path; state out through plain queries."""

    def __init__(self, db: Database, settings, clock: FakeClock) -> None:
        self.db, self.settings = db, settings
        self.use_clock(clock)
        self.users: list[int] = []

    def use_clock(self, clock) -> None:
        self.clock = clock
        self.consumer = build_consumer(self.settings, self.db, clock)

    def send(self, *envelopes) -> None:
        self.consumer.handle([Message(e.topic, e.to_json(), 1, 1, False, 0, time.monotonic()) for e in envelopes])

    def user(self, timezone: str = "UTC") -> int:
        user_id = fresh_id()
        self.users.append(user_id)
        data = {"email": f"{user_id}@example.org", "full_name": None, "timezone": timezone}
        self.send(new_event("user.updated", {"user_id": user_id}, data, source="auth", occurred_at=self.clock()))
        return user_id

    def med(
        self, user_id: int, times=("08:00",), repeat="daily", lead=5, revision=1, med_id=None, name="Lisinopril", **rule
    ):
        med_id = med_id or fresh_id()
        schedule = {
            "repeat_type": repeat,
            "day_mask": rule.pop("day_mask", None),
            "times": list(times),
            "custom_start": rule.pop("custom_start", None),
            "custom_end": rule.pop("custom_end", None),
            "lead_minutes": lead,
        }
        data = {
            "revision": revision,
            "name": name,
            "notes": None,
            "active_start_date": rule.pop("active_start_date", None),
            "active_end_date": rule.pop("active_end_date", None),
            "schedule": schedule,
        }
        self.send(new_event("medication.upserted", {"user_id": user_id, "med_id": med_id}, data, source="meds"))
        return med_id

    def box(self, device_id: str, user_id: int | None, at: datetime, kind="device.pill_taken", event_id=None):
        data = {"raw_event": "pill_taken", "form": "A", "received_at": at, "clock_skew": False}
        envelope = new_event(
            kind,
            {"device_id": device_id, "user_id": user_id},
            data,
            source="device-gateway",
            occurred_at=at,
            event_id=event_id,
        )
        self.send(envelope)
        return envelope

    @staticmethod
    def device() -> str:
        return f"box-{uuid.uuid4().hex[:8]}"

    def doses(self, user_id: int) -> list[DoseInstance]:
        with self.db.transaction() as session:
            query = select(DoseInstance).where(DoseInstance.user_id == user_id).order_by(DoseInstance.scheduled_at)
            return list(session.scalars(query))

    def dose_events(self, user_id: int | None = None, device_id: str | None = None) -> list[DoseEvent]:
        with self.db.transaction() as session:
            query = select(DoseEvent).order_by(DoseEvent.id)
            query = (
                query.where(DoseEvent.user_id == user_id) if user_id else query.where(DoseEvent.device_id == device_id)
            )
            return list(session.scalars(query))

    def outbox_all(self, event_type: str | None = None) -> list[dict]:
        with self.db.transaction() as session:
            query = select(OUTBOX.table.c.payload).order_by(OUTBOX.table.c.id)
            if event_type:
                query = query.where(OUTBOX.table.c.event_type == event_type)
            payloads = list(session.scalars(query))
        for payload in payloads:  # every event adherence emits is valid against the catalogue
            parse_envelope(payload.encode())
        return [json.loads(p) for p in payloads]

    def outbox(self, user_id: int, event_type: str | None = None) -> list[dict]:
        return [e for e in self.outbox_all(event_type) if e["subject"].get("user_id") == user_id]


@pytest.fixture
def world(db, settings, clock):
    world = World(db, settings, clock)
    yield world
    # Leave nothing behind for the next test's engine or extender: delete the users the way auth would.
    world.send(*(new_event("user.deleted", {"user_id": u}, {}, source="auth") for u in world.users))
