"""`make demo`: PillPal from end to end on this machine, narrated.

It starts the whole system on the embedded defaults (SQLite files in a temporary folder; the broker on
127.0.0.1:1883 when one answers and lets the shipped firmware in, otherwise an embedded one; the dev
gateway), switches on a simulated pillbox that speaks the shipped firmware's protocol, and plays an app
user who registers, pairs the box and adds a medication due in a minute or two. The box rings, its owner
opens the lid, the box goes quiet, and the calendar and the adherence summary show the dose taken.
Everything it started is stopped at the end. Exit status 0 when every step happened, 1 otherwise.

    python -m pillpal_tools.demo [--keep] [--step-timeout 60] [--embedded-broker]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from pillpal_shared.broker import free_port, port_open
from pillpal_shared.config import Env
from pillpal_shared.devrun import choose_broker
from pillpal_shared.system import PACKAGES, System, dev_keys, installed_services

from .app import Answer, AppClient, poll
from .box import SimulatedBox


class DemoFailed(Exception):
    """A step did not happen; the message says which."""


class Narrator:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, text: str, who: str = "") -> None:
        elapsed = time.monotonic() - self.started
        label = f"{who:<7}" if who else " " * 7
        try:
            sys.stdout.write(f"[{elapsed:5.1f}s] {label} {text}\n")
            sys.stdout.flush()
        except OSError:  # nobody reads any more (a closed pipe): carry on, and still stop what we started
            pass


def lets_boxes_in(port: int) -> bool:
    """Whether a broker answers on 127.0.0.1:`port` and accepts a client without credentials, as the
    shipped firmware connects."""
    if not port_open("127.0.0.1", port):
        return False
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv311)
    outcome: list[bool] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.append(not reason.is_failure)
    try:
        client.connect("127.0.0.1", port, keepalive=10)
        deadline = time.monotonic() + 3
        while not outcome and time.monotonic() < deadline:
            client.loop(timeout=0.1)
        client.disconnect()
    except OSError:
        return False
    return bool(outcome and outcome[0])


def until(condition: Callable[[], Any], failure: str, timeout: float) -> Any:
    got = poll(condition, timeout)
    if not got:
        raise DemoFailed(f"{failure} (waited {timeout:.0f} s)")
    return got


def expect(answer: Answer, status: int | tuple[int, ...], what: str) -> Any:
    allowed = (status,) if isinstance(status, int) else status
    if answer.status not in allowed:
        raise DemoFailed(f"{what}: HTTP {answer.status} {answer.body!r}")
    return answer.body


class Demo:
    def __init__(self, var_dir: Path, step_timeout: float, embedded_broker: bool = False) -> None:
        self.var_dir = var_dir
        self.timeout = step_timeout
        self.embedded_broker = embedded_broker
        self.say = Narrator().say
        self.system: System | None = None
        self.box: SimulatedBox | None = None
        self.heard = 0  # commands of the box already told
        self.stoppers: list[Callable[[], None]] = []

    # --- the system ---------------------------------------------------------------------------

    def start(self) -> tuple[str, str]:
        """Starts PillPal; returns the gateway's URL and the broker's."""
        services = installed_services()
        if services != list(PACKAGES):
            missing = ", ".join(s for s in PACKAGES if s not in services)
            raise DemoFailed(f"services not installed: {missing} (run `make venv`)")
        # The process environment only (MQTT_BROKER, if someone set it); a `.env` made for compose is ignored.
        env = Env({} if self.embedded_broker else dict(os.environ))
        usable = (lambda _port: False) if self.embedded_broker else lets_boxes_in
        broker = choose_broker(env, self.var_dir, embedded_port=free_port(), local_usable=usable)
        self.stoppers.append(broker.stop)
        run = uuid.uuid4().hex[:8]
        service_env = {
            s: {
                **broker.service_env.get(s, {}),
                "DATABASE_URL": f"sqlite:///{self.var_dir / (s.replace('-', '_') + '.db')}",
                # Fresh MQTT sessions that expire soon: a broker shared with `make run` keeps nothing of ours.
                "MQTT_CLIENT_ID": f"pillpal-demo-{s}-{run}",
                "MQTT_SESSION_EXPIRY": "300",
            }
            for s in services
        }
        base = {
            "MQTT_BROKER": broker.url,
            "PILLPAL_VAR_DIR": str(self.var_dir),
            "PILLPAL_ENV_FILE": str(self.var_dir / "no.env"),
            "PILLPAL_LEGACY_DEVICES": "1",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            **dev_keys(self.var_dir),
        }
        self.say(f"Starting PillPal: {', '.join(services)}, each under gunicorn with its MQTT worker, and the")
        self.say(f"dev API gateway. Broker: {broker.description}.")
        self.system = System(
            env=base,
            services=services,
            var_dir=self.var_dir,
            gateway="dev",
            gateway_port=free_port(),
            ports={s: free_port() for s in services},
            service_env=service_env,
            http_workers=1,
        )
        self.stoppers.append(self.system.stop)
        self.system.start(timeout=self.timeout)
        self.say(f"PillPal is up: the API gateway answers on {self.system.gateway_url}.")
        return self.system.gateway_url, broker.url

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest whatever one of them does
                self.say(f"(could not stop cleanly: {exc})")
        self.stoppers.clear()

    # --- the box ------------------------------------------------------------------------------

    def switch_on_box(self, broker_url: str) -> SimulatedBox:
        device_id = str(random.randint(1000, 9999))
        self.box = SimulatedBox(device_id, broker_url, form="B", lid_closed_after=0.5, listen_shared=False)
        self.box.start()
        self.stoppers.append(self.box.stop)
        self.say(f"Pillbox {device_id} is switched on. It runs the shipped firmware: no credentials, its", "box")
        self.say("events as JSON on pillpal/device/events (form B), plain-text commands on", "box")
        self.say(f"pillpal/device/{device_id}/commands.", "box")
        return self.box

    def box_hears(self, word: str, why: str, timeout: float | None = None) -> None:
        assert self.box is not None
        if not self.box.wait_command(word, timeout=timeout or self.timeout):
            raise DemoFailed(f"the box did not hear {word} ({why})")
        new = self.box.commands[self.heard :]
        self.heard += len(new)
        flags = ", ".join(f"{name} {'on' if on else 'off'}" for name, on in self.box.preferences.items())
        ringing = "RINGING" if self.box.alerting else "quiet"
        self.say(f"hears {' '.join(new)}  ->  {flags}; {ringing}", "box")
        if word == "ALERT_STOP" and any(w.startswith("SET_PREF_") for w in new):
            self.say("(the lid opening was the box's first message: the gateway marked it online and re-sent")
            self.say("its preferences and alarm state, while the dose was still ringing, then stopped it)")

    # --- the story ----------------------------------------------------------------------------

    def run(self) -> None:
        gateway, broker_url = self.start()
        box = self.switch_on_box(broker_url)
        app = AppClient(gateway, f"ann-{uuid.uuid4().hex[:6]}@example.com", "correct horse battery")

        expect(app.register("Ann Example", "04/12/1950"), 201, "registering")
        self.say(f"Ann registers as {app.email} (POST /api/auth/register) and gets her token.", "app")
        me = expect(app.get("/api/auth/me"), 200, "reading the profile")
        self.say(f"GET /api/auth/me -> user_id {me['user_id']}, {me['full_name']}, born {me['birthday']}", "app")

        expect(app.post("/api/devices/pair", {"device_id": box.device_id}), 201, "pairing the box")
        self.say(f"Ann pairs pillbox {box.device_id} (POST /api/devices/pair; a legacy box pairs by its id).", "app")
        self.say("The device-gateway sends a newly paired box its owner's preferences.")
        self.box_hears("SET_PREF_LED_ON", "its owner's preferences, sent when it is paired")

        body = {"sound": True, "vibration": True, "device_notifications": False}
        expect(app.post("/api/settings/update", body), 200, "changing the settings")
        self.say("Ann turns the box's light off (POST /api/settings/update device_notifications=false).", "app")
        self.box_hears("SET_PREF_LED_OFF", "the settings change")

        now = datetime.now(UTC)
        at = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
        hhmm = at.strftime("%H:%M")
        schedule = {"repeat_type": "daily", "day_mask": None, "times": [hhmm], "custom_start": None, "custom_end": None}
        medication = {"name": "Lisinopril", "notes": "with water", "schedule": schedule}
        expect(app.post("/api/medications", medication), (200, 201), "adding the medication")
        med = expect(app.get("/api/medications"), 200, "listing the medications")[0]
        lead = timedelta(minutes=med["schedule"]["lead_minutes"])
        self.say(f"Ann adds Lisinopril, daily at {hhmm} (her zone: UTC, the profile's default), due in", "app")
        self.say(f"{(at - now).total_seconds() / 60:.1f} minutes (POST /api/medications).", "app")
        rings_in = max(0.0, (at - lead - datetime.now(UTC)).total_seconds())
        self.say(
            f"Reminders ring {med['schedule']['lead_minutes']} minutes ahead: "
            + ("this one is due now." if not rings_in else f"this one rings in {rings_in:.0f} s.")
        )
        self.say("meds announces medication.upserted; adherence plans the doses; its reminder engine emits")
        self.say("dose.due; the device-gateway turns that into a command to Ann's box.")
        self.box_hears("ALERT_START", "the reminder of the dose", timeout=rings_in + self.timeout)
        status = expect(app.get("/api/device/alert_status?device_id=1"), 200, "the alert status")
        self.say(f"GET /api/device/alert_status?device_id=1 -> {json.dumps(status)}", "app")
        if not status["should_alert"]:
            raise DemoFailed("the alert status does not say should_alert while the box rings")

        time.sleep(2)
        box.take_pill()
        self.say(f'Ann opens the lid: {{"device_id": "{box.device_id}", "event_type": "lid_opened", ...}}', "box")
        self.say("The device-gateway normalises it to device.pill_taken; adherence closes the dose as taken")
        self.say("(dose.taken, dose.closed); the device-gateway stops the alarm.")
        self.box_hears("ALERT_STOP", "the dose taken")

        today = at.date().isoformat()

        def taken() -> list[dict[str, Any]]:
            day = expect(app.get(f"/api/calendar/day?date={today}"), 200, "the calendar")
            return [d for d in day if d["status"] == "taken"]

        dose = until(taken, "the calendar does not show the dose taken", self.timeout)[0]
        self.say(f"GET /api/calendar/day?date={today} -> {dose['time']} {dose['name']}: {dose['status']}", "app")
        days = expect(app.get(f"/api/medications/history?from=Bearer%20{app.token}"), 200, "the history")
        entries = ", ".join(f"{m['scheduledTime']} {m['name']} {m['status']}" for m in days[0]["medications"])
        self.say(
            f"GET /api/medications/history (the app's token in `from`, ignored) -> {days[0]['date']}: {entries}", "app"
        )
        overall = expect(app.get(f"/api/adherence/summary?from={today}&to={today}"), 200, "the summary")["overall"]
        if overall["taken"] != 1:
            raise DemoFailed(f"the adherence summary does not count the dose taken: {overall}")
        self.say(
            f"GET /api/adherence/summary -> {overall['taken']} of {overall['scheduled']} taken, "
            f"{overall['taken_on_time']} on time, adherence {overall['adherence_percent']} %",
            "app",
        )
        self.say("Done: from reminder to taken, through the app, the bus, the box and back.")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pillpal-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the demo's folder (databases, logs) afterwards")
    parser.add_argument("--step-timeout", type=float, default=60.0, help="seconds any one step may take")
    parser.add_argument(
        "--embedded-broker", action="store_true", help="start a broker of its own even when one runs on 1883"
    )
    args = parser.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="pillpal-demo-"))
    demo = Demo(var_dir, args.step_timeout, args.embedded_broker)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    failure: str | None = None
    try:
        demo.run()
    except KeyboardInterrupt:
        failure = "interrupted"
    except (DemoFailed, RuntimeError, ConnectionError, OSError) as exc:
        failure = str(exc)
    finally:
        demo.say("Stopping everything the demo started...")
        demo.stop()
    if failure:
        sys.stderr.write(f"\nThe demo FAILED: {failure}\nLogs of every process: {var_dir / 'log'}\n")
        return 1
    if args.keep:
        demo.say(f"Databases and logs kept in {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
