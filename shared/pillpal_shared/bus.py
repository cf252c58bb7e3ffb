"""The MQTT bus client (paho-mqtt 2.x) and the batch consumer built on it.

- Callback API version 2; subscriptions are (re)made in on_connect, so a reconnect re-subscribes.
- paho reconnects by itself (loop_start + reconnect_delay_set); there is no hand-written loop.
- Consumers keep a persistent session (fixed client id, clean_start false, a session expiry) and
  acknowledge a QoS 1 message only after their handler returns, i.e. after its commit (manual_ack).
- Publishing confirms delivery: `confirm()` waits for every PUBACK or raises.
"""

from __future__ import annotations

import base64
import queue
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .config import MqttSettings
from .envelope import Envelope, new_event
from .metrics import EVENTS_IN, EVENTS_OUT, EVENTS_REJECTED

log = structlog.get_logger(__name__)
DEAD_LETTER_PAYLOAD_LIMIT = 1024
RECEIVE_MAXIMUM = 1000


class PublishFailed(RuntimeError):
    """A publish was not confirmed by the broker in time; the caller must not acknowledge its input."""


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    generation: int
    received_at: float


def shared_subscription(topic: str, group: str | None) -> str:
    return f"$share/{group}/{topic}" if group else topic


class BusClient:
    """One connection to the broker."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str | None = None,
        persistent: bool = False,
        subscriptions: Iterable[str] = (),
        on_message: Callable[[Message], None] | None = None,
        will: tuple[str, bytes, bool] | None = None,
    ) -> None:
        self.settings = settings
        self.subscriptions = list(subscriptions)
        self._on_message = on_message
        self._persistent = persistent
        self._connected = threading.Event()
        self.generation = 0
        v5 = settings.protocol == "5"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or settings.client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if v5 else not persistent,
            reconnect_on_failure=True,
            manual_ack=on_message is not None,
        )
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls:
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        if will:
            self.client.will_set(will[0], will[1], qos=1, retain=will[2])
        self.client.max_inflight_messages_set(RECEIVE_MAXIMUM)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_message = self._handle_message

    # --- lifecycle --------------------------------------------------------------------------

    def start(self, wait: float | None = 10.0) -> BusClient:
        properties = None
        clean_start: bool | int = mqtt.MQTT_CLEAN_START_FIRST_ONLY
        if self.settings.protocol == "5":
            properties = Properties(PacketTypes.CONNECT)
            properties.ReceiveMaximum = RECEIVE_MAXIMUM
            if self._persistent:
                properties.SessionExpiryInterval = self.settings.session_expiry
                clean_start = False
            else:
                clean_start = True
        self.client.connect_async(
            self.settings.host, self.settings.port, keepalive=30, clean_start=clean_start, properties=properties
        )
        self.client.loop_start()
        if wait and not self._connected.wait(wait):
            log.warning("broker_not_reachable_yet", broker=self.settings.url)
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _handle_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker_refused_connection", reason=str(reason), broker=self.settings.url)
            return
        self.generation += 1
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)
        self._connected.set()
        log.info("broker_connected", broker=self.settings.url, subscriptions=self.subscriptions)

    def _handle_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._connected.clear()
        log.warning("broker_disconnected", reason=str(reason))

    def _handle_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # Runs in paho's network thread: hand over and return; nothing may escape from here.
        if self._on_message is None:
            return
        try:
            self._on_message(
                Message(msg.topic, msg.payload, msg.mid, msg.qos, msg.retain, self.generation, time.monotonic())
            )
        except Exception:  # noqa: BLE001 - the network thread must survive any handler bug
            log.exception("message_handover_failed", topic=msg.topic)

    # --- publishing -------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise PublishFailed(f"publish to {topic} refused: {mqtt.error_string(info.rc)}")
        return info

    def publish_event(self, envelope: Envelope) -> mqtt.MQTTMessageInfo:
        info = self.publish(envelope.topic, envelope.to_json())
        EVENTS_OUT.labels(envelope.type).inc()
        return info

    def confirm(self, infos: Iterable[mqtt.MQTTMessageInfo], timeout: float = 10.0) -> None:
        """Waits until the broker has acknowledged every publish; raises PublishFailed otherwise."""
        deadline = time.monotonic() + timeout
        for info in infos:
            while True:
                with info._condition:  # paho's own condition, set when the PUBACK arrives
                    if info._published:
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PublishFailed("the broker did not confirm a publish in time")
                    info._condition.wait(min(remaining, 0.5))

    def dead_letter(self, consumer: str, topic: str, payload: bytes, reason: str) -> mqtt.MQTTMessageInfo:
        """Publishes a rejected message, with its reason and a bounded copy, on pillpal/events/rejected."""
        EVENTS_REJECTED.labels(reason.split(":", 1)[0][:40]).inc()
        clipped = payload[:DEAD_LETTER_PAYLOAD_LIMIT]
        try:
            text, encoding = clipped.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(clipped).decode(), "base64"
        envelope = new_event(
            "event.rejected",
            {},
            {
                "topic": topic,
                "reason": reason,
                "payload": text,
                "payload_encoding": encoding,
                "payload_size": len(payload),
                "consumer": consumer,
            },
            source=consumer,
        )
        log.warning("message_rejected", topic=topic, reason=reason, size=len(payload))
        return self.publish(envelope.topic, envelope.to_json())

    def ack(self, message: Message) -> None:
        if message.qos > 0 and message.generation == self.generation:
            self.client.ack(message.mid, message.qos)


class BatchConsumer:
    """Receives on a persistent session and hands batches to `handle`, acknowledging after it returns.

    `handle` must deal with bad input itself (dead-letter it); an exception out of `handle` means the
    infrastructure failed (database down, publish unconfirmed), so the same batch is retried after a
    pause and nothing is acknowledged meanwhile. Messages received before a reconnect are dropped
    unacknowledged: the broker redelivers them on the resumed session.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        name: str,
        subscriptions: Iterable[str],
        handle: Callable[[list[Message]], None],
        client_id: str | None = None,
        batch_size: int = 500,
        batch_wait: float = 0.01,
        retry_delay: float = 1.0,
    ) -> None:
        self.name = name
        self._queue: queue.Queue[Message] = queue.Queue()
        self._handle = handle
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._retry_delay = retry_delay
        topics = [shared_subscription(t, settings.share_group) for t in subscriptions]
        self.bus = BusClient(
            settings, client_id=client_id, persistent=True, subscriptions=topics, on_message=self._queue.put
        )

    def start(self, wait: float | None = 10.0) -> BatchConsumer:
        self.bus.start(wait)
        return self

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            batch = self._next_batch(stop)
            if batch:
                self._process(batch, stop)
        self.bus.stop()

    def _next_batch(self, stop: threading.Event) -> list[Message]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._batch_wait
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        current = self.bus.generation
        return [m for m in batch if m.generation == current]

    def _process(self, batch: list[Message], stop: threading.Event) -> None:
        EVENTS_IN.labels(self.name).inc(len(batch))
        delay = self._retry_delay
        while not stop.is_set():
            if batch[0].generation != self.bus.generation:
                return  # reconnected meanwhile: the broker redelivers these
            try:
                self._handle(batch)
            except Exception:  # noqa: BLE001 - infrastructure failure: keep the batch, retry later
                log.exception("batch_failed_will_retry", consumer=self.name, size=len(batch), retry_in=delay)
                stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            for message in batch:
                self.bus.ack(message)
            return
