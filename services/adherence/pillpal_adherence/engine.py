"""The reminder engine: dose.due at scheduled_at - lead_minutes, and missed after the grace period.

It keeps no state in memory. Each pass takes the doses whose `next_at` has come (SELECT ... FOR UPDATE
SKIP LOCKED, so replicas split the work), then claims them with conditional updates (`... WHERE
status = <as read> AND next_at <= now`, stamping a claim token) and announces only what it claimed, so any
number of replicas never fire a reminder twice. Per dose:
- scheduled or snoozed, before its deadline: alerting, `dose.due`; next look at the deadline;
- any open status at or past its deadline: missed (`miss` dose event, `dose.missed`, `dose.closed`), so
  a restart closes what fell past its grace while down, without a stale alarm.
The deadline is max(scheduled_at, snoozed_until) + grace. The clock is injected.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pillpal_shared.db import Database, utcnow

from . import emit
from .config import AdherenceSettings
from .models import OUTBOX, DoseEvent, DoseInstance, Medication

log = structlog.get_logger(__name__)
D = DoseInstance
SYNC = {"synchronize_session": False}


class ReminderEngine:
    def __init__(self, db: Database, settings: AdherenceSettings, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.grace = settings.grace
        self.batch = settings.engine_batch
        self.poll = settings.engine_poll_seconds
        self.clock = clock

    def run_once(self) -> int:
        """One pass over at most `batch` doses whose time has come; returns how many it looked at."""
        now, token = self.clock(), uuid.uuid4().hex
        with self.db.transaction() as session:
            rows = session.execute(
                select(D.instance_id, D.user_id, D.med_id, D.status, D.scheduled_at, D.due_at, D.snoozed_until)
                .where(D.next_at <= now)
                .order_by(D.next_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if rows:
                self._claim_and_announce(session, rows, now, token)
        return len(rows)

    def _claim_and_announce(self, session: Session, rows: list, now: datetime, token: str) -> None:  # type: ignore[type-arg]
        plans: defaultdict[tuple[str, str, datetime | None], list[int]] = defaultdict(list)
        for row in rows:
            deadline = max(row.scheduled_at, row.snoozed_until or row.scheduled_at) + self.grace
            if now >= deadline:
                plans[(row.status, "missed", None)].append(row.instance_id)
            else:  # scheduled or snoozed: ring; alerting (the grace period changed): look again later
                plans[(row.status, "alerting", deadline)].append(row.instance_id)
        for (status, new_status, deadline), ids in plans.items():
            values: dict[str, object] = {"status": new_status, "next_at": deadline, "claim_token": token}
            if new_status == "missed":
                values["closed_at"] = now
            elif status != "alerting":
                values["alerted_at"] = now
            session.execute(
                update(D).where(D.instance_id.in_(ids), D.status == status, D.next_at <= now).values(values),
                execution_options=SYNC,
            )
        claimed = set(session.scalars(select(D.instance_id).where(D.claim_token == token)))
        rows = [row for row in rows if row.instance_id in claimed]
        self._announce(session, rows, now)

    def _announce(self, session: Session, rows: list, now: datetime) -> None:  # type: ignore[type-arg]
        missed = [r for r in rows if now >= max(r.scheduled_at, r.snoozed_until or r.scheduled_at) + self.grace]
        gone = {r.instance_id for r in missed}
        ring = [r for r in rows if r.status != "alerting" and r.instance_id not in gone]
        names = self._names(session, {r.med_id for r in ring})
        events = [emit.due(r, names.get(r.med_id, ""), r.snoozed_until or r.due_at) for r in ring]
        events += [e for r in missed for e in emit.missed(r, now, closes=True)]
        OUTBOX.add(session, *events)
        if missed:
            marks = [
                emit.dose_event("miss", "system", now, now, instance_id=r.instance_id, user_id=r.user_id)
                for r in missed
            ]
            session.execute(DoseEvent.__table__.insert(), marks)
        if rows:
            log.info("reminders", due=len(ring), missed=len(missed))

    @staticmethod
    def _names(session: Session, med_ids: set[int]) -> dict[int, str]:
        if not med_ids:
            return {}
        found = session.execute(select(Medication.med_id, Medication.name).where(Medication.med_id.in_(med_ids)))
        return {row.med_id: row.name for row in found}

    def seconds_to_next(self) -> float:
        """How long until the next dose needs a look (at most the poll interval)."""
        now = self.clock()
        with self.db.transaction() as session:
            upcoming = session.scalar(select(func.min(D.next_at)).where(D.next_at > now))
        if upcoming is None:
            return self.poll
        return max(0.0, min(self.poll, (upcoming - now).total_seconds()))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.run_once() >= self.batch:
                    continue
                wait = self.seconds_to_next()
            except Exception:  # noqa: BLE001 - database outage: nothing was claimed, try again
                log.exception("reminder_pass_failed")
                wait = 2.0
            stop.wait(wait)
