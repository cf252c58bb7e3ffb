"""The bus side of adherence: which events it consumes, and who handles each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database, utcnow

from .boxevents import BoxEvents
from .config import SERVICE, AdherenceSettings
from .models import INBOX
from .projections import Projections


def build_consumer(
    settings: AdherenceSettings, db: Database, clock: Callable[[], datetime] = utcnow, **kwargs: object
) -> EventConsumer:
    projections = Projections(settings, clock)
    box_events = BoxEvents(settings, clock).apply  # one object, so pill_taken and alert_started batch together
    handlers = {
        "user.updated": projections.user_updated,
        "user.deleted": projections.user_deleted,
        "medication.upserted": projections.medication_upserted,
        "medication.deleted": projections.medication_deleted,
        "pairing.created": projections.pairing_created,
        "pairing.removed": projections.pairing_removed,
        "device.status_changed": projections.device_seen,
    }
    batch_handlers = {"device.pill_taken": box_events, "device.alert_started": box_events}
    return EventConsumer(
        SERVICE,
        db,
        settings.common.mqtt,
        INBOX,
        handlers,
        batch_handlers=batch_handlers,
        **kwargs,  # type: ignore[arg-type]
    )
