"""The horizon extender: keeps every medication's doses materialised today + horizon_days ahead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from pillpal_shared.db import Database, utcnow

from .config import AdherenceSettings
from .doses import extend_doses
from .models import AdherenceUser, Medication
from .schedule import zone_for

log = structlog.get_logger(__name__)


class HorizonExtender:
    def __init__(
        self,
        db: Database,
        settings: AdherenceSettings,
        clock: Callable[[], datetime] = utcnow,
        *,
        batch: int = 200,
        interval: float = 60.0,
        pause: float = 0.5,
    ) -> None:
        self.db = db
        self.days = settings.horizon_days
        self.clock = clock
        self.batch = batch
        self.interval = interval
        self.pause = pause

    def run_once(self) -> int:
        """Extends up to `batch` medications whose horizon fell behind; returns how many."""
        now = self.clock()
        # Local today is within a day of UTC today: anything below this is at least a day short.
        cutoff = now.date() + timedelta(days=self.days - 1)
        with self.db.transaction() as session:
            meds = session.scalars(
                select(Medication)
                .where(Medication.deleted_at.is_(None))
                .where(Medication.horizon_until.is_(None) | (Medication.horizon_until < cutoff))
                .order_by(Medication.horizon_until)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            users = {m.user_id for m in meds}
            query = select(AdherenceUser.user_id, AdherenceUser.timezone).where(AdherenceUser.user_id.in_(users))
            zones = {row.user_id: row.timezone for row in session.execute(query)} if users else {}
            added = sum(extend_doses(session, m, zone_for(zones.get(m.user_id)), now, self.days) for m in meds)
        if meds:
            log.info("horizon_extended", medications=len(meds), doses=added)
        return len(meds)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.run_once() >= self.batch:
                    stop.wait(self.pause)  # a backlog (every medication at UTC midnight) is worked off gently
                    continue
            except Exception:  # noqa: BLE001 - database outage: the next pass does the same work
                log.exception("horizon_pass_failed")
            stop.wait(self.interval)
