"""A service's consumer of bus events: validate, dedupe, apply in one transaction, then acknowledge.

Per batch: every message is parsed as an envelope (anything malformed or of a type this consumer
does not handle is dead-lettered), the inbox drops ids already applied, and the handlers run in one
transaction whose commit covers the whole batch. If the batch fails for a reason other than a
database outage, each event is retried alone, and one that still fails is dead-lettered with the
error, so a poison event never blocks the stream. A database outage raises, so the batch is retried
whole and nothing is acknowledged until it commits.

A batch handler (`batch_handlers`) receives a consecutive run of events of its types at once, so it can
load what the run needs in one query and write its effects in bulk; order across types is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy.orm import Session

from .bus import BatchConsumer, Message
from .config import MqttSettings
from .db import Database, is_outage
from .envelope import Envelope, InvalidEvent, parse_envelope, subscription_for
from .outbox import Inbox

log = structlog.get_logger(__name__)
Handler = Callable[[Session, Envelope], None]
BatchHandler = Callable[[Session, list[Envelope]], None]


class EventConsumer:
    def __init__(
        self,
        name: str,
        db: Database,
        settings: MqttSettings,
        inbox: Inbox,
        handlers: dict[str, Handler],
        *,
        client_id: str | None = None,
        batch_size: int = 500,
        batch_handlers: dict[str, BatchHandler] | None = None,
    ) -> None:
        self.name = name
        self.db = db
        self.inbox = inbox
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.consumer = BatchConsumer(
            settings,
            name=name,
            subscriptions=[subscription_for(t) for t in (*handlers, *self.batch_handlers)],
            handle=self.handle,
            client_id=client_id,
            batch_size=batch_size,
        )
        self.bus = self.consumer.bus

    def start(self, wait: float | None = 10.0) -> EventConsumer:
        self.consumer.start(wait)
        return self

    def run(self, stop) -> None:  # type: ignore[no-untyped-def]
        self.consumer.run(stop)

    def handle(self, messages: list[Message]) -> None:
        rejected = []
        envelopes: list[Envelope] = []
        for message in messages:
            try:
                envelope = parse_envelope(message.payload)
                if envelope.type not in self.handlers and envelope.type not in self.batch_handlers:
                    raise InvalidEvent(f"{self.name} does not handle {envelope.type}")
                envelopes.append(envelope)
            except InvalidEvent as exc:
                rejected.append(self.bus.dead_letter(self.name, message.topic, message.payload, exc.reason))
        if envelopes:
            self._apply(envelopes, rejected)
        self.bus.confirm(rejected)

    def _apply(self, envelopes: list[Envelope], rejected: list) -> None:  # type: ignore[type-arg]
        try:
            with self.db.transaction() as session:
                fresh = self.inbox.claim(session, envelopes)
                self._dispatch_all(session, fresh)
            self._applied(envelopes, fresh)
            return
        except Exception as exc:
            if is_outage(exc):
                raise
            if len(envelopes) == 1:
                self._reject(envelopes[0], exc, rejected)
                return
            log.warning("batch_apply_failed_retrying_one_by_one", consumer=self.name, error=str(exc))
        for envelope in envelopes:
            try:
                with self.db.transaction() as session:
                    fresh = self.inbox.claim(session, [envelope])
                    self._dispatch_all(session, fresh)
                self._applied([envelope], fresh)
            except Exception as exc:
                if is_outage(exc):
                    raise
                self._reject(envelope, exc, rejected)

    def _applied(self, received: list[Envelope], fresh: list[Envelope]) -> None:
        """One line per committed batch: the ids it applied (the far end of an event's trail)."""
        log.info(
            "events_applied",
            consumer=self.name,
            event_ids=[e.id for e in fresh],
            duplicates=len(received) - len(fresh),
        )

    def _dispatch_all(self, session: Session, envelopes: list[Envelope]) -> None:
        """Applies events in order; a consecutive run sharing one batch handler goes to it at once."""
        start = 0
        while start < len(envelopes):
            batch_handler = self.batch_handlers.get(envelopes[start].type)
            if batch_handler is None:
                self._dispatch(session, envelopes[start])
                start += 1
                continue
            end = start + 1
            while end < len(envelopes) and self.batch_handlers.get(envelopes[end].type) is batch_handler:
                end += 1
            batch_handler(session, envelopes[start:end])
            start = end

    def _dispatch(self, session: Session, envelope: Envelope) -> None:
        with structlog.contextvars.bound_contextvars(event_id=envelope.id, event_type=envelope.type):
            self.handlers[envelope.type](session, envelope)

    def _reject(self, envelope: Envelope, exc: Exception, rejected: list) -> None:  # type: ignore[type-arg]
        log.exception("event_handler_failed", event_id=envelope.id, event_type=envelope.type)
        rejected.append(
            self.bus.dead_letter(
                self.name, envelope.topic, envelope.to_json(), f"handler failed: {type(exc).__name__}: {exc}"
            )
        )
