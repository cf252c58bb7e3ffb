"""The box ingest: raw box messages in, canonical device events out, on one persistent MQTT session.

Per batch: read every message (dead-lettering what cannot be understood); in one transaction, look up
the boxes and their owners, publish the normalised events and wait for the broker's confirmation, then
write the boxes' new state (and the commands a box back online needs) and commit. Only then does
BatchConsumer acknowledge the batch. A crash anywhere before that gets the batch redelivered, and a
resend publishes the same event ids, which consumers drop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from paho.mqtt.client import MQTTMessageInfo

from pillpal_shared.bus import BatchConsumer, Message
from pillpal_shared.config import MqttSettings
from pillpal_shared.db import Database
from pillpal_shared.envelope import new_event, rfc3339

from ..service import Gateway
from . import store
from .normalise import occurred, to_envelope
from .reading import Reading, Rejected, read
from .tracker import BoxChange, StateTracker

log = structlog.get_logger(__name__)
NAME = "device-gateway-ingest"
SUBSCRIPTIONS = (
    "pillpal/device/+",  # form A (pillpal/device/<id>) and form B (pillpal/device/events)
    "pillpal/device/+/events",
    "pillpal/device/+/telemetry",
    "pillpal/device/+/status",
)


class BoxIngest:
    def __init__(
        self,
        db: Database,
        settings: MqttSettings,
        gateway: Gateway,
        *,
        clock: Callable[[], datetime],
        client_id: str | None = None,
        batch_size: int = 500,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.consumer = BatchConsumer(
            settings,
            name=NAME,
            subscriptions=SUBSCRIPTIONS,
            handle=self.handle,
            client_id=client_id,
            batch_size=batch_size,
        )
        self.bus = self.consumer.bus

    def start(self, wait: float | None = 10.0) -> BoxIngest:
        self.consumer.start(wait)
        return self

    def run(self, stop: threading.Event) -> None:
        self.consumer.run(stop)

    def handle(self, messages: list[Message]) -> None:
        now, mono = self.clock(), time.monotonic()
        pending: list[MQTTMessageInfo] = []
        readings: list[tuple[Reading, Message, datetime]] = []
        for message in messages:
            try:
                reading = read(message.topic, message.payload)
            except Rejected as exc:
                pending.append(self._reject(message, exc.reason))
                continue
            except Exception as exc:  # noqa: BLE001 - a reader bug met by some input must not stall the stream
                log.exception("box_message_unreadable", topic=message.topic)
                pending.append(self._reject(message, f"unreadable: {type(exc).__name__}: {exc}"))
                continue
            if reading is not None:
                readings.append((reading, message, now - timedelta(seconds=mono - message.received_at)))
        if readings:
            self._apply(readings, pending, now)
        else:
            self.bus.confirm(pending)

    def _apply(self, readings: list[tuple[Reading, Message, datetime]], pending: list, now: datetime) -> None:  # type: ignore[type-arg]
        bus = self.bus
        with self.db.transaction() as session:
            known = store.load(session, (r.device_id for r, _, _ in readings))
            tracker = StateTracker({device_id: box.online for device_id, box in known.items()})
            for reading, message, received_at in readings:
                box = known.get(reading.device_id)
                if box is None:
                    pending.append(self._reject(message, f"unknown device: {reading.device_id} is not registered"))
                    continue
                tracker.saw(reading, received_at, message.retain)
                if reading.event_type is None:
                    continue
                owner = box.owner_at(occurred(reading.box_time, received_at)[0])  # type: ignore[arg-type]
                if owner is None:
                    pending.append(self._reject(message, f"no owner: box {reading.device_id} was not paired then"))
                    continue
                try:
                    envelope = to_envelope(reading, owner, received_at)
                except Exception as exc:  # noqa: BLE001 - pure code: a failure here is input-driven, not an outage
                    log.exception("box_event_not_normalised", device_id=reading.device_id)
                    pending.append(self._reject(message, f"unreadable: {type(exc).__name__}: {exc}"))
                    continue
                pending.append(bus.publish_event(envelope))
            changes = tracker.changes()
            for change in changes:
                if change.came_online or change.went_offline:
                    pending.append(bus.publish_event(self._status_event(change, known[change.device_id], now)))
            # The state is written while the broker confirms, but committed only once it has.
            store.save(session, changes)
            back_online = [
                ([change.device_id], owner, not change.reported_taken)
                for change in changes
                if change.came_online and (owner := known[change.device_id].current_owner) is not None
            ]
            self.gateway.bring_boxes_up_to_date(session, back_online, now)
            bus.confirm(pending)

    def _reject(self, message: Message, reason: str) -> MQTTMessageInfo:
        return self.bus.dead_letter(NAME, message.topic, message.payload, reason)

    @staticmethod
    def _status_event(change: BoxChange, box: store.KnownBox, now: datetime):  # type: ignore[no-untyped-def]
        return new_event(
            "device.status_changed",
            {"device_id": change.device_id, "user_id": box.current_owner},
            {"online": change.online, "last_seen": rfc3339(change.last_seen or now)},
            source="device-gateway",
            occurred_at=change.last_seen or now,
        )
