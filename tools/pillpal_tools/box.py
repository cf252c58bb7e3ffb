"""A simulated pillbox that speaks the protocol of the boxes in the field (see protocol.py).

Like the firmware: MQTT 3.1.1, clean session, keepalive 60 s, client id `device_<id>`, QoS 1 events.
It keeps its LED/sound/vibration preferences and its alert state, and with `open_lid_after` it opens
its lid that many seconds after ALERT_START, as a person taking the pill would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from pillpal_shared.config import parse_broker_url

from .protocol import FORMS, box_timestamp, command_topics, device_topic, event_message, preference_change

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatedBox:
    def __init__(
        self,
        device_id: str,
        broker: str,
        *,
        form: str = "B",
        username: str | None = None,
        password: str | None = None,
        open_lid_after: float | None = None,
        lid_closed_after: float = 1.0,
        listen_shared: bool | None = None,
        qos: int = 1,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
        self.device_id = str(device_id)
        self.form = form
        self.open_lid_after = open_lid_after
        self.lid_closed_after = lid_closed_after
        self.listen_shared = form == "B" if listen_shared is None else listen_shared
        self.qos = qos
        self.clock = clock
        self.preferences = {"led": True, "sound": True, "vibration": True}
        self.alerting = False
        self.alerts = 0  # ALERT_STARTs that started an alarm (a repeat while alerting does not)
        self.lid_openings = 0
        self.commands: list[str] = []
        self.command_counts: Counter[str] = Counter()
        self.sent = 0
        self.confirmed = 0
        self.refused: str | None = None
        self._seq = 0
        self._subscribe_mid: int | None = None
        self._changed = threading.Condition()
        self._connected = threading.Event()
        self._timers: list[threading.Timer] = []
        self._host, self._port, tls = parse_broker_url(broker, "broker")
        self.client = self._client(username, password, tls)

    # --- connection -------------------------------------------------------------------------

    def _client(self, username: str | None, password: str | None, tls: bool) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"device_{self.device_id}",
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
        if username is not None:
            client.username_pw_set(username, password)
        if tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if self.form == "device":
            client.will_set(self.topic("status"), "offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def topic(self, kind: str) -> str:
        return device_topic(self.device_id, kind)

    def start(self, wait: float = 10.0) -> SimulatedBox:
        """Connects and subscribes; raises ConnectionError if the broker refuses or does not answer."""
        self.client.connect_async(self._host, self._port, keepalive=60)
        self.client.loop_start()
        deadline = time.monotonic() + wait
        while wait and not self.wait_connected(0.05):
            if self.refused or time.monotonic() > deadline:
                self.stop()
                raise ConnectionError(f"box {self.device_id}: {self.refused or 'the broker did not answer'}")
        return self

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self.disconnect()
        self.client.loop_stop()

    def disconnect(self) -> None:
        """Says `offline` (per-device form) and disconnects; `stop()` also ends the network thread."""
        for timer in self._timers:
            timer.cancel()
        if self.form == "device" and self._connected.is_set():
            try:
                self._publish(self.topic("status"), "offline", retain=True).wait_for_publish(5)
            except (RuntimeError, ValueError):
                log.warning("box_offline_status_not_sent", device_id=self.device_id)
        self.client.disconnect()
        self._connected.clear()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self.refused = f"the broker refused the connection: {reason}"
            return
        self.refused = None
        topics = command_topics(self.device_id, self.listen_shared)
        _, self._subscribe_mid = client.subscribe([(t, 1) for t in topics])
        if self.form == "device":
            self._publish(self.topic("status"), "online", retain=True)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, _codes: Any, _props: Any) -> None:
        if mid == self._subscribe_mid:
            self._connected.set()  # connected and listening: a command sent from now on arrives

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, _reason: Any, _props: Any) -> None:
        self._connected.clear()  # paho reconnects by itself; on_connect subscribes again

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, _mid: int, _reason: Any, _props: Any) -> None:
        with self._changed:
            self.confirmed += 1
            self._changed.notify_all()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            self.handle_command(message.payload.decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - paho's network thread must survive anything
            log.exception("box_command_failed", device_id=self.device_id)

    # --- what the box hears -------------------------------------------------------------------

    def handle_command(self, text: str) -> None:
        """Obeys one plain-text command, as the firmware does; an unknown one is kept and ignored."""
        command = text.strip()
        with self._changed:
            self.commands.append(command)
            self.command_counts[command] += 1
            if command == "ALERT_START" and not self.alerting:
                self.alerting = True
                self.alerts += 1
                if self.open_lid_after is not None:
                    self._later(self.open_lid_after, self.take_pill)
            elif command == "ALERT_STOP":
                self.alerting = False
            elif change := preference_change(command):
                self.preferences[change[0]] = change[1]
            self._changed.notify_all()

    def wait_until(self, condition: Callable[[SimulatedBox], bool], timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)

    def wait_command(self, command: str, timeout: float = 10.0, count: int = 1) -> bool:
        return self.wait_until(lambda box: box.command_counts[command] >= count, timeout)

    # --- what the box says --------------------------------------------------------------------

    def payload(self, event: str, **extra: Any) -> tuple[str, bytes]:
        """The topic and payload of `event` in this box's form."""
        with self._changed:
            self._seq += 1
            seq = self._seq
        return event_message(self.form, self.device_id, event, box_timestamp(self.clock()), seq, **extra)

    def send(self, event: str, **extra: Any) -> mqtt.MQTTMessageInfo:
        return self._publish(*self.payload(event, **extra))

    def _publish(self, topic: str, payload: str | bytes, retain: bool = False) -> mqtt.MQTTMessageInfo:
        """Every publish of the box: `sent` counts them and `confirmed` their acknowledgements."""
        with self._changed:
            self.sent += 1
        return self.client.publish(topic, payload, qos=self.qos if not retain else 1, retain=retain)

    def take_pill(self) -> None:
        """What a person does: open the lid (then close it), or `pill_taken` in the seed's form."""
        with self._changed:
            self.lid_openings += 1
        if self.form == "A":
            self.send("pill_taken")
            return
        self.send("lid_opened")
        self._later(self.lid_closed_after, lambda: self.send("lid_closed"))

    def report(self, *, battery_percent: int | None = None, fw_version: str | None = None) -> None:
        """Telemetry: on the per-device topic, or riding along a form A `battery` event."""
        fields = {"battery_percent": battery_percent, "fw_version": fw_version}
        values = {name: value for name, value in fields.items() if value is not None}
        if self.form == "device":
            self._publish(self.topic("telemetry"), json.dumps(values))
        elif self.form == "A":
            self.send("battery", **values)
        else:
            raise ValueError("the shipped firmware (form B) sends no telemetry")

    def _later(self, delay: float, action: Callable[[], object]) -> None:
        timer = threading.Timer(delay, action)
        timer.daemon = True
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()
