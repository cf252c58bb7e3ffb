"""The device-gateway's background process: the box ingest, the consumer of dose and user events, and the
outbox relay that publishes pairing/settings events and the commands to the boxes."""

from __future__ import annotations

from pillpal_shared.bus import BusClient
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database, utcnow
from pillpal_shared.logs import configure_logging
from pillpal_shared.outbox import OutboxRelay
from pillpal_shared.worker import run_parts

from .app import build_gateway
from .config import SERVICE, load_settings
from .ingest.consumer import BoxIngest
from .models import INBOX, OUTBOX


def main() -> None:
    settings = load_settings()
    common = settings.common
    configure_logging(SERVICE, common.log_format, common.log_level)
    db = Database(common.database_url)
    gateway = build_gateway(settings)
    client_id = common.mqtt.client_id
    ingest = BoxIngest(
        db, common.mqtt, gateway, clock=utcnow, client_id=f"{client_id}-ingest", batch_size=settings.ingest_batch_size
    ).start()
    batched = gateway.batch_handlers()
    handlers = {kind: handler for kind, handler in gateway.handlers().items() if kind not in batched}
    events = EventConsumer(
        SERVICE, db, common.mqtt, INBOX, handlers, client_id=f"{client_id}-events", batch_handlers=batched
    ).start()
    publisher = BusClient(common.mqtt, client_id=f"{client_id}-relay").start()
    relay = OutboxRelay(db, OUTBOX.table, publisher)
    run_parts({"box-ingest": ingest.run, "dose-events": events.run, "outbox-relay": relay.run})
    publisher.stop()


if __name__ == "__main__":
    main()
