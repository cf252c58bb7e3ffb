"""The dose events of one consumer batch are applied at once: the same projection and the same commands, in
the same order, as applying them one at a time."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from pillpal_gateway import pairing
from pillpal_gateway.app import build_gateway
from pillpal_gateway.cli import register
from pillpal_gateway.commands import LEGACY_TOPIC, Commands
from pillpal_gateway.models import OUTBOX, DoseAlert
from pillpal_shared.envelope import new_event

from .conftest import gateway_environ, new_box_id
from .test_pairing import outbox_rows
from .test_sqlite import sqlite_db  # noqa: F401 - the fixture

NOW = datetime.now(UTC).replace(microsecond=0)
MINUTE = timedelta(minutes=1)


def dose(kind, user_id, instance_id, at, **data):
    subject = {"user_id": user_id, "med_id": 7, "instance_id": instance_id}
    return new_event(f"dose.{kind}", subject, {"scheduled_at": NOW, **data}, source="adherence", occurred_at=at)


def due(user_id, instance_id, at, due_at=NOW):
    return dose("due", user_id, instance_id, at, med_name="X", due_at=due_at)


def closed(user_id, instance_id, at):
    return dose("closed", user_id, instance_id, at, status="taken")


def snoozed(user_id, instance_id, at, until):
    return dose("snoozed", user_id, instance_id, at, until=until)


def paired_boxes(db, user_id, count=1):
    boxes = []
    for _ in range(count):
        issued = register(db, new_box_id())
        with db.transaction() as session:
            assert pairing.pair(session, user_id, issued.device_id, issued.pairing_code, False, NOW)
        boxes.append(issued.device_id)
    return boxes


def commands(db, boxes):
    return [outbox_rows(db, f"pillpal/device/{box}/commands") for box in boxes]


def projection(db, instance_ids):
    with db.transaction() as session:
        rows = session.scalars(select(DoseAlert).where(DoseAlert.instance_id.in_(instance_ids))).all()
        found = {
            row.instance_id: (row.state, row.scheduled_at, row.due_at, row.snoozed_until, row.last_event_at)
            for row in rows
        }
    return [found.get(i) for i in instance_ids]


def script(users, doses):
    """Several users' doses in one run: fresh and stale dues, late copies, snoozes (one already over),
    closes while another dose still rings, a close with no due before it, a due too old to ring."""
    a, b, c = users
    return [
        due(a, doses[0], NOW),
        due(b, doses[2], NOW),
        due(a, doses[1], NOW),
        closed(a, doses[0], NOW + MINUTE),  # a's second dose still rings: no ALERT_STOP
        due(a, doses[0], NOW),  # a late copy of a closed dose: nothing
        snoozed(b, doses[2], NOW + MINUTE, NOW + 10 * MINUTE),  # b is quiet: ALERT_STOP
        due(c, doses[3], NOW, due_at=NOW - timedelta(days=3)),  # too old to ring
        snoozed(b, doses[2], NOW, NOW + 20 * MINUTE),  # older than the snooze applied: nothing
        closed(a, doses[1], NOW + 2 * MINUTE),  # a is quiet now: ALERT_STOP
        due(b, doses[4], NOW),
        snoozed(b, doses[4], NOW + MINUTE, NOW - MINUTE),  # a snooze already over still rings: no ALERT_STOP
        closed(c, doses[5], NOW + MINUTE),  # never seen due: a closed row; c's old dose no longer rings: ALERT_STOP
        due(b, doses[2], NOW + 3 * MINUTE),  # rings again
        closed(b, doses[4], NOW + 4 * MINUTE),  # doses[2] still rings
        closed(b, doses[2], NOW + 5 * MINUTE),  # now quiet
        closed(b, doses[2], NOW + 6 * MINUTE),  # a second close changes nothing
    ]


def actors(db, count_boxes=(2, 1, 1)):
    users = [random.randint(10**6, 10**9) for _ in count_boxes]
    boxes = [paired_boxes(db, user, n) for user, n in zip(users, count_boxes, strict=True)]
    doses = [random.randint(1, 10**12) for _ in range(6)]
    return users, boxes, doses


def test_one_batch_gives_what_one_event_at_a_time_gives(db, settings):
    gateway = build_gateway(settings, lambda: NOW + 3 * MINUTE)
    one_by_one, batched = actors(db), actors(db)

    users, boxes, doses = one_by_one
    for envelope in script(users, doses):
        with db.transaction() as session:
            gateway.handlers()[envelope.type](session, envelope)
    users, boxes, doses = batched
    envelopes = script(users, doses)
    with db.transaction() as session:
        gateway.batch_handlers()["dose.due"](session, envelopes)

    expected = [commands(db, user_boxes) for user_boxes in one_by_one[1]]
    assert [commands(db, user_boxes) for user_boxes in batched[1]] == expected
    assert expected == [
        [["ALERT_START", "ALERT_START", "ALERT_STOP"]] * 2,
        [["ALERT_START", "ALERT_STOP", "ALERT_START", "ALERT_START", "ALERT_STOP"]],
        [["ALERT_STOP"]],
    ]
    assert projection(db, batched[2]) == projection(db, one_by_one[2])
    assert projection(db, batched[2])[5][0] == "closed"


def test_mixed_due_and_closed_of_one_user_in_one_batch(db, settings):
    gateway = build_gateway(settings, lambda: NOW)
    ringing, user = random.randint(10**6, 10**9), random.randint(10**6, 10**9)
    (box,) = paired_boxes(db, user)
    (other_box,) = paired_boxes(db, ringing)
    first, second, third, elsewhere = (random.randint(1, 10**12) for _ in range(4))
    with db.transaction() as session:  # an earlier batch: the other user's dose rings
        gateway.dose_events(session, [due(ringing, elsewhere, NOW)])
    with db.transaction() as session:
        gateway.dose_events(
            session,
            [
                due(user, first, NOW),
                due(ringing, second, NOW),
                due(user, first, NOW),  # a second copy rings again, as one at a time would
                closed(user, first, NOW + MINUTE),
                closed(ringing, second, NOW + MINUTE),  # its dose from the earlier batch still rings
                due(user, third, NOW + 2 * MINUTE),  # rings again after the ALERT_STOP
            ],
        )
    assert outbox_rows(db, f"pillpal/device/{box}/commands") == [
        "ALERT_START",
        "ALERT_START",
        "ALERT_STOP",
        "ALERT_START",
    ]
    assert outbox_rows(db, f"pillpal/device/{other_box}/commands") == ["ALERT_START", "ALERT_START"]
    with db.transaction() as session:
        assert gateway.alerting(session, ringing) and gateway.alerting(session, user)


def test_legacy_mode_also_commands_on_the_shared_topic(db, database_url, keys, broker):
    from pillpal_gateway.config import load_settings

    gateway = build_gateway(load_settings(gateway_environ(database_url, keys, broker, legacy=True)), lambda: NOW)
    user, instance = random.randint(10**6, 10**9), random.randint(1, 10**12)
    boxes = paired_boxes(db, user, 2)
    table = OUTBOX.table
    with db.transaction() as session:
        last = session.scalar(select(func.max(table.c.id))) or 0
        gateway.dose_events(session, [due(user, instance, NOW), closed(user, instance, NOW + MINUTE)])
    with db.transaction() as session:
        staged = session.execute(select(table.c.topic, table.c.payload).where(table.c.id > last).order_by(table.c.id))
        staged = [tuple(row) for row in staged]
    topics = [f"pillpal/device/{box}/commands" for box in boxes] + [LEGACY_TOPIC]
    assert staged == [(t, "ALERT_START") for t in topics] + [(t, "ALERT_STOP") for t in topics]


def test_stage_many_is_stage_for_each_order(db):
    boxes = [new_box_id() for _ in range(3)]
    with db.transaction() as session:
        count = Commands(legacy=False).stage_many(
            session, [(boxes[:2], ["ALERT_START"]), ([], ["ALERT_STOP"]), (boxes[2:], ["A", "B"])]
        )
    assert count == 4
    assert commands(db, boxes) == [["ALERT_START"], ["ALERT_START"], ["A", "B"]]


def test_the_batch_upsert_on_sqlite(sqlite_db, settings):  # noqa: F811
    gateway = build_gateway(settings, lambda: NOW)
    (box,) = paired_boxes(sqlite_db, 5)
    with sqlite_db.transaction() as session:
        gateway.dose_events(session, [due(5, 1, NOW), due(5, 2, NOW)])
    with sqlite_db.transaction() as session:
        gateway.dose_events(session, [closed(5, 1, NOW + MINUTE), snoozed(5, 2, NOW + MINUTE, NOW + 9 * MINUTE)])
    assert [row[0] for row in projection(sqlite_db, [1, 2])] == ["closed", "snoozed"]
    assert outbox_rows(sqlite_db, f"pillpal/device/{box}/commands") == ["ALERT_START", "ALERT_START", "ALERT_STOP"]


def test_boxes_back_online_in_one_batch_are_brought_up_to_date_each(db, settings):
    gateway = build_gateway(settings, lambda: NOW)
    ringing, quiet = random.randint(10**6, 10**9), random.randint(10**6, 10**9)
    first, second = paired_boxes(db, ringing, 2)
    (third,) = paired_boxes(db, quiet)
    with db.transaction() as session:
        gateway.dose_events(session, [due(ringing, random.randint(1, 10**12), NOW)])
        gateway.update_settings(session, quiet, {"sound": False})
    before = commands(db, [first, second, third])
    with db.transaction() as session:
        gateway.bring_boxes_up_to_date(
            session, [([first], ringing, True), ([second], ringing, False), ([third], quiet, True)], NOW
        )
    after = [rows[len(old) :] for rows, old in zip(commands(db, [first, second, third]), before, strict=True)]
    on = ["SET_PREF_SOUND_ON", "SET_PREF_VIB_ON", "SET_PREF_LED_ON"]
    assert after == [on + ["ALERT_START"], on, ["SET_PREF_SOUND_OFF", "SET_PREF_VIB_ON", "SET_PREF_LED_ON"]]
