"""The transactional outbox, its relay, and the processed-event table (the inbox).

A state change and the event announcing it are written in one transaction (`Outbox.add`); the relay
publishes pending rows, waits for the broker's confirmation and only then marks them sent. A crash
between commit and publish therefore delays an event but never loses it; a crash between publish and
marking may publish it again with the same id, which consumers drop through their inbox.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import structlog
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.orm import Session

from .bus import BusClient, PublishFailed
from .db import Database, UTCDateTime, utcnow
from .envelope import Envelope
from .metrics import EVENTS_DUPLICATE, EVENTS_OUT, OUTBOX_LAG, OUTBOX_PENDING

log = structlog.get_logger(__name__)


def outbox_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(64), nullable=False),
        Column("topic", String(255), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True),
        Index(f"ix_{prefix}_outbox_pending", "sent_at", "id"),
    )


def processed_events_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("processed_at", UTCDateTime(), nullable=False),
    )


class Outbox:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, session: Session, *envelopes: Envelope) -> None:
        """Stages events in the caller's transaction."""
        if not envelopes:
            return
        now = utcnow()
        session.execute(
            insert(self.table),
            [
                {
                    "event_id": e.id,
                    "event_type": e.type,
                    "topic": e.topic,
                    "payload": e.to_json().decode(),
                    "created_at": now,
                }
                for e in envelopes
            ],
        )
        # Inside a request this line carries its request_id: the link from an API call to its events.
        log.info("events_staged", event_ids=[e.id for e in envelopes], event_types=sorted({e.type for e in envelopes}))


class Inbox:
    """Remembers which envelope ids a service has applied, in the same transaction as the effect."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, session: Session, envelopes: list[Envelope]) -> list[Envelope]:
        """Returns the envelopes not seen before (first copy only) and records them as processed."""
        if not envelopes:
            return []
        ids = list({e.id for e in envelopes})
        seen = set(session.scalars(select(self.table.c.event_id).where(self.table.c.event_id.in_(ids))))
        fresh: list[Envelope] = []
        for envelope in envelopes:
            if envelope.id in seen:
                EVENTS_DUPLICATE.labels(envelope.type).inc()
                continue
            seen.add(envelope.id)
            fresh.append(envelope)
        if fresh:
            now = utcnow()
            session.execute(
                insert(self.table),
                [{"event_id": e.id, "event_type": e.type, "processed_at": now} for e in fresh],
            )
        return fresh


class OutboxRelay:
    """Publishes pending outbox rows in id order, confirmed, then marks them sent."""

    def __init__(
        self,
        db: Database,
        table: Table,
        bus: BusClient,
        *,
        batch_size: int = 500,
        interval: float = 0.05,
        retention: timedelta = timedelta(days=3),
    ) -> None:
        self.db = db
        self.table = table
        self.bus = bus
        self.batch_size = batch_size
        self.interval = interval
        self.retention = retention
        self._last_purge = 0.0

    def run_once(self, timeout: float = 10.0) -> int:
        """Publishes one batch; returns how many rows it sent. Raises PublishFailed if unconfirmed."""
        t = self.table
        with self.db.transaction() as session:
            rows = session.execute(
                select(t.c.id, t.c.event_type, t.c.topic, t.c.payload, t.c.created_at)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                OUTBOX_PENDING.set(0)
                OUTBOX_LAG.set(0)
                return 0
            OUTBOX_LAG.set((utcnow() - rows[0].created_at).total_seconds())
            OUTBOX_PENDING.set(len(rows))
            infos = [self.bus.publish(row.topic, row.payload.encode()) for row in rows]
            self.bus.confirm(infos, timeout)
            session.execute(update(t).where(t.c.id.in_([r.id for r in rows])).values(sent_at=utcnow()))
        for event_type, count in Counter(row.event_type for row in rows).items():
            EVENTS_OUT.labels(event_type).inc(count)
        return len(rows)

    def purge(self) -> None:
        cutoff = utcnow() - self.retention
        with self.db.transaction() as session:
            session.execute(delete(self.table).where(self.table.c.sent_at < cutoff))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                sent = self.run_once()
                if time.monotonic() - self._last_purge > 3600:
                    self.purge()
                    self._last_purge = time.monotonic()
            except PublishFailed as exc:
                log.warning("outbox_publish_unconfirmed", error=str(exc))
                sent = 0
                stop.wait(1.0)
            except Exception:  # noqa: BLE001 - database outage: keep the rows, try again
                log.exception("outbox_relay_failed")
                sent = 0
                stop.wait(2.0)
            if sent < self.batch_size:
                stop.wait(self.interval)
