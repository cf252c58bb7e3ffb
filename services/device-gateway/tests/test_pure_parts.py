"""Pure pieces: the state tracker, the command words, the credentials' hashes and the password file."""

import subprocess
from datetime import UTC, datetime, timedelta

from pillpal_gateway import credentials
from pillpal_gateway.commands import preference_commands
from pillpal_gateway.ingest.reading import Reading
from pillpal_gateway.ingest.store import KnownBox
from pillpal_gateway.ingest.tracker import StateTracker

T0 = datetime(2026, 12, 4, 8, tzinfo=UTC)


def test_tracker_folds_a_batch_into_one_change_per_box():
    tracker = StateTracker({"a": False, "b": True})
    tracker.saw(Reading("a", "telemetry", battery_percent=80), T0)
    tracker.saw(Reading("a", "device", event="heartbeat"), T0 + timedelta(seconds=1))
    tracker.saw(Reading("a", "telemetry", rssi=-70), T0 + timedelta(seconds=2))
    tracker.saw(Reading("b", "status", online=False), T0)
    a, b = tracker.changes()
    assert (a.online, a.came_online, a.battery_percent, a.rssi) == (True, True, 80, -70)
    assert a.last_seen == T0 + timedelta(seconds=2)
    assert (b.online, b.went_offline) == (False, True)


def test_a_retained_status_is_not_a_sighting():
    tracker = StateTracker({"a": True})
    tracker.saw(Reading("a", "status", online=True), T0, retained=True)
    (a,) = tracker.changes()
    assert a.last_seen is None and not a.came_online


def test_last_will_after_events_leaves_the_box_offline():
    tracker = StateTracker({})
    tracker.saw(Reading("a", "device", event="heartbeat"), T0)
    tracker.saw(Reading("a", "status", online=False), T0)
    (a,) = tracker.changes()
    assert not a.online and not a.came_online


def test_a_box_back_online_with_its_lid_open_reports_the_pill_taken():
    """Its resync then sends preferences without ALERT_START: the dose is about to close."""
    tracker = StateTracker({"legacy": False, "other": False})
    tracker.saw(Reading("legacy", "B", event="lid_opened"), T0)
    tracker.saw(Reading("other", "B", event="lid_closed"), T0)
    legacy, other = tracker.changes()
    assert legacy.came_online and legacy.reported_taken
    assert other.came_online and not other.reported_taken


def test_owner_at_a_moment():
    box = KnownBox(True, [(1, T0, T0 + timedelta(hours=1)), (2, T0 + timedelta(hours=2), None)])
    assert box.owner_at(T0 - timedelta(minutes=6)) is None
    assert box.owner_at(T0 - timedelta(minutes=4)) == 1  # a box clock a little slow
    assert box.owner_at(T0 + timedelta(minutes=30)) == 1
    assert box.owner_at(T0 + timedelta(hours=1, minutes=30)) is None
    assert box.owner_at(T0 + timedelta(hours=1, minutes=58)) == 2
    assert box.owner_at(T0 + timedelta(days=3)) == 2
    assert box.current_owner == 2


def test_preference_commands():
    assert preference_commands({"led": False, "sound": True}) == ["SET_PREF_SOUND_ON", "SET_PREF_LED_OFF"]
    assert preference_commands({"vibration": False}) == ["SET_PREF_VIB_OFF"]


def test_mosquitto_hash_matches_mosquitto_passwd(tmp_path):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "box-9", "s3cret!"], check=True)
    stored = passwd.read_text().strip().split(":", 1)[1]
    assert credentials.check_mosquitto_hash("s3cret!", stored)
    assert not credentials.check_mosquitto_hash("s3cret", stored)
    assert credentials.check_mosquitto_hash("pw", credentials.mosquitto_hash("pw"))
    assert not credentials.check_mosquitto_hash("pw", None)
    assert not credentials.check_mosquitto_hash("pw", "$7$101$not base64$!!")


def test_pairing_codes():
    code = credentials.new_pairing_code()
    assert len(code) == 9 and code[4] == "-"
    stored = credentials.hash_code(code)
    assert credentials.check_code(code.lower().replace("-", " "), stored)
    assert not credentials.check_code("AAAA-AAAA", stored)
    assert not credentials.check_code(code, None)


def test_passwd_entries_are_added_and_replaced(tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("svc-auth:$7$keep\n")
    credentials.write_passwd_entry(passwd, "box-1", "$7$first")
    credentials.write_passwd_entry(passwd, "box-2", "$7$other")
    credentials.write_passwd_entry(passwd, "box-1", "$7$second")
    assert passwd.read_text().splitlines() == ["svc-auth:$7$keep", "box-2:$7$other", "box-1:$7$second"]
