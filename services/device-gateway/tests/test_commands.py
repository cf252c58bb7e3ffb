"""Commands reach the box through the real broker: ALERT_START on dose.due, ALERT_STOP on dose.closed,
and a box back online is brought up to date (its preferences, and ALERT_START while a dose rings)."""

import random
from datetime import UTC, datetime

from sqlalchemy import select

from pillpal_gateway.commands import LEGACY_TOPIC, Commands
from pillpal_gateway.models import OUTBOX
from pillpal_shared.bus import BusClient
from pillpal_shared.envelope import new_event

from .conftest import SimBox
from .test_pairing import pair

PREFS = ["SET_PREF_SOUND_ON", "SET_PREF_VIB_OFF", "SET_PREF_LED_ON"]


def words(received):
    return [payload for _topic, payload in received]


def publish(broker, envelope):
    bus = BusClient(broker.settings("svc-adherence")).start()
    bus.confirm([bus.publish_event(envelope)])
    bus.stop()


def test_dose_events_and_a_return_online_command_the_box(worker, broker, client, box, user):
    user_id, headers = user
    client.post("/api/settings/update", json={"vibration": False}, headers=headers)
    sim = SimBox(broker, "svc-ops", command_topics=[f"pillpal/device/{box.device_id}/commands"])
    pair(client, headers, box.device_id, box.pairing_code)
    assert words(sim.received(until=lambda got: len(got) >= 3)) == PREFS

    now = datetime.now(UTC)
    subject = {"user_id": user_id, "med_id": 5, "instance_id": random.randint(1, 10**9)}
    publish(broker, new_event("dose.due", subject, {"med_name": "A", "scheduled_at": now, "due_at": now}, source="t"))
    assert words(sim.received(until=lambda got: len(got) >= 1)) == ["ALERT_START"]

    sim.send(f"pillpal/device/{box.device_id}/status", "online")
    assert words(sim.received(until=lambda got: len(got) >= 4)) == [*PREFS, "ALERT_START"]

    publish(broker, new_event("dose.closed", subject, {"scheduled_at": now, "status": "taken"}, source="t"))
    assert words(sim.received(until=lambda got: len(got) >= 1)) == ["ALERT_STOP"]
    sim.close()


def test_legacy_mode_also_commands_the_shared_topic(db):
    device_id = f"legacy-{random.randint(1, 10**9)}"
    with db.transaction() as session:
        assert Commands(legacy=True).stage(session, [device_id], ["ALERT_START"]) == 2
        rows = session.execute(
            select(OUTBOX.table.c.topic, OUTBOX.table.c.payload).order_by(OUTBOX.table.c.id.desc()).limit(2)
        ).all()
    assert sorted(rows) == sorted(
        [(f"pillpal/device/{device_id}/commands", "ALERT_START"), (LEGACY_TOPIC, "ALERT_START")]
    )
