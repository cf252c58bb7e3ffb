"""Fixtures of the meds tests: the app over the session's MariaDB, a movable clock, fresh users."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pillpal_meds.app import create_app
from pillpal_meds.config import load_settings
from pillpal_meds.models import OUTBOX
from pillpal_shared.db import Database


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class User:
    id: int
    headers: dict[str, str]


@pytest.fixture(scope="session")
def meds_settings(database_url, keys):
    return load_settings({"DATABASE_URL": database_url, "JWT_PUBLIC_KEY": keys.public_pem, "LOG_FORMAT": "console"})


@pytest.fixture(scope="session")
def db(meds_settings):
    database = Database(meds_settings.common.database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))


@pytest.fixture
def app(meds_settings, db, clock):
    return create_app(meds_settings, db, clock)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def new_user(keys):
    signer = keys.signer()

    def make() -> User:
        user_id = random.randint(10**6, 10**12)
        return User(user_id, {"Authorization": f"Bearer {signer.issue(user_id)}"})

    return make


@pytest.fixture
def alice(new_user):
    return new_user()


@pytest.fixture
def bob(new_user):
    return new_user()


@pytest.fixture
def med_body():
    """An AddMedicationRequest as the app builds it; keyword arguments change its schedule."""

    def make(name: str = "Lisinopril", **schedule) -> dict:
        return {
            "name": name,
            "notes": "with water",
            "schedule": {
                "repeat_type": "daily",
                "day_mask": None,
                "times": ["08:00", "20:00"],
                "custom_start": None,
                "custom_end": None,
                **schedule,
            },
        }

    return make


@pytest.fixture
def staged(db):
    """The events staged in the outbox for one medication, oldest first."""

    def events(med_id: int) -> list[dict]:
        t = OUTBOX.table
        query = select(t.c.payload).where(t.c.topic.like(f"pillpal/events/medication/{med_id}/%")).order_by(t.c.id)
        with db.engine.connect() as conn:
            return [json.loads(payload) for (payload,) in conn.execute(query)]

    return events
