"""Meds' background process: the outbox relay (medication.upserted/deleted) and the consumer of
auth's user.updated (time-zone projection) and user.deleted (remove that user's medications)."""

from __future__ import annotations

from pillpal_shared.bus import BusClient
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database, utcnow
from pillpal_shared.logs import configure_logging
from pillpal_shared.outbox import OutboxRelay
from pillpal_shared.worker import run_parts

from .config import SERVICE, load_settings
from .handlers import event_handlers
from .models import INBOX, OUTBOX
from .service import Medications


def main() -> None:
    settings = load_settings()
    common = settings.common
    configure_logging(SERVICE, common.log_format, common.log_level)
    db = Database(common.database_url, pool_size=settings.db_pool_size)
    meds = Medications(utcnow, settings.default_lead_minutes)
    publisher = BusClient(common.mqtt, client_id=f"{common.mqtt.client_id}-relay").start()
    relay = OutboxRelay(db, OUTBOX.table, publisher)
    consumer = EventConsumer(SERVICE, db, common.mqtt, INBOX, event_handlers(meds)).start()
    run_parts({"outbox-relay": relay.run, "consumer": consumer.run})
    publisher.stop()


if __name__ == "__main__":
    main()
