"""Auth's background process: the outbox relay that publishes user.updated and user.deleted."""

from __future__ import annotations

from pillpal_shared.bus import BusClient
from pillpal_shared.db import Database
from pillpal_shared.logs import configure_logging
from pillpal_shared.outbox import OutboxRelay
from pillpal_shared.worker import run_parts

from .config import SERVICE, load_settings
from .models import OUTBOX


def main() -> None:
    settings = load_settings()
    common = settings.common
    configure_logging(SERVICE, common.log_format, common.log_level)
    db = Database(common.database_url)
    publisher = BusClient(common.mqtt, client_id=f"{common.mqtt.client_id}-relay").start()
    relay = OutboxRelay(db, OUTBOX.table, publisher)
    run_parts({"outbox-relay": relay.run})
    publisher.stop()


if __name__ == "__main__":
    main()
