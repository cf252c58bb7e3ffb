"""Adherence's background process: outbox relay, event consumer, reminder engine, horizon extender."""

from __future__ import annotations

from pillpal_shared.bus import BusClient
from pillpal_shared.db import Database
from pillpal_shared.logs import configure_logging
from pillpal_shared.outbox import OutboxRelay
from pillpal_shared.worker import run_parts

from .config import SERVICE, load_settings
from .engine import ReminderEngine
from .handlers import build_consumer
from .horizon import HorizonExtender
from .models import OUTBOX


def main() -> None:
    settings = load_settings()
    common = settings.common
    configure_logging(SERVICE, common.log_format, common.log_level)
    db = Database(common.database_url)
    publisher = BusClient(common.mqtt, client_id=f"{common.mqtt.client_id}-relay").start()
    consumer = build_consumer(settings, db).start()
    run_parts(
        {
            "outbox-relay": OutboxRelay(db, OUTBOX.table, publisher, batch_size=1000).run,
            "consumer": consumer.run,
            "reminder-engine": ReminderEngine(db, settings).run,
            "horizon-extender": HorizonExtender(db, settings).run,
        }
    )
    publisher.stop()


if __name__ == "__main__":
    main()
