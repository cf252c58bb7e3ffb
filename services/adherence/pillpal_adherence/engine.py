"""The reminder engine: dose.due at scheduled_at - lead_minutes, and missed after the grace period.

It keeps no state in memory. Each pass takes the doses whose `next_at` has come, or comes within the
lookahead for a dose about to ring (SELECT ... FOR UPDATE SKIP LOCKED, so replicas split the work), then
claims them with conditional updates (`... WHERE status = <as read> AND next_at <= <as read>`, stamping a
claim token) and announces only what it claimed, so any number of replicas never fire a reminder twice.
Per dose:
- scheduled or snoozed, before its deadline: alerting, `dose.due` at its ring time (`due_at`, or the end
  of the snooze); a ring time still ahead is staged (held.py) and released at that instant;
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
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from pillpal_shared.db import Database, utcnow
from pillpal_shared.metrics import REMINDER_LATENESS, observe_each

from . import emit, held
from .config import AdherenceSettings
from .models import OUTBOX, DoseEvent, DoseInstance, Medication

log = structlog.get_logger(__name__)
D = DoseInstance
SYNC = {"synchronize_session": False}
RINGABLE = ("scheduled", "snoozed")


class ReminderEngine:
    def __init__(self, db: Database, settings: AdherenceSettings, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.grace = settings.grace
        self.batch = settings.engine_batch
        self.poll = settings.engine_poll_seconds
        self.lookahead = settings.engine_lookahead
        self.clock = clock

    def run_once(self) -> int:
        """Releases staged reminders that are due, then claims at most `batch` doses; returns how many
        doses it looked at."""
        now = self.clock()
        with self.db.transaction() as session:
            held.release(session, now, self.grace)
        token, horizon = uuid.uuid4().hex, now + self.lookahead
        with self.db.transaction() as session:
            # The medication's name rides along (its row is locked too, briefly; a dose whose medication is
            # being changed right now is skipped and taken on the next pass).
            rows = session.execute(
                select(D.instance_id, D.user_id, D.med_id, D.status, D.scheduled_at, D.due_at, D.snoozed_until)
                .add_columns(D.next_at, Medication.name)
                .join(Medication, Medication.med_id == D.med_id, isouter=True)
                .where(D.next_at <= horizon, or_(D.next_at <= now, D.status.in_(RINGABLE)))  # deadlines not early
                .order_by(D.next_at)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if rows:
                self._claim_and_announce(session, rows, now, token)
        return len(rows)

    def _deadline(self, row) -> datetime:  # type: ignore[no-untyped-def]
        return max(row.scheduled_at, row.snoozed_until or row.scheduled_at) + self.grace

    def _claim_and_announce(self, session: Session, rows: list, now: datetime, token: str) -> None:  # type: ignore[type-arg]
        plans: defaultdict[tuple[str, str, datetime | None, datetime | None], list] = defaultdict(list)  # type: ignore[type-arg]
        for row in rows:
            deadline = self._deadline(row)
            if now >= deadline:
                plans[(row.status, "missed", None, None)].append(row)
            elif row.status in RINGABLE:  # rings at next_at: due_at, or the end of the snooze
                plans[(row.status, "alerting", deadline, row.next_at)].append(row)
            else:  # alerting: the grace period changed; look again at the new deadline
                plans[(row.status, "alerting", deadline, None)].append(row)
        claimed, announce = 0, []
        for (status, new_status, deadline, ring_at), group in plans.items():
            values: dict[str, object] = {"status": new_status, "next_at": deadline, "claim_token": token}
            if new_status == "missed":
                values["closed_at"] = now
            elif ring_at is not None:
                values["alerted_at"] = ring_at
            result = session.execute(
                update(D)
                .where(D.instance_id.in_([r.instance_id for r in group]), D.status == status)
                .where(D.next_at <= max(r.next_at for r in group))
                .values(values),
                execution_options=SYNC,
            )
            claimed += result.rowcount  # type: ignore[attr-defined]
            announce += [(r, new_status, ring_at) for r in group if new_status == "missed" or ring_at is not None]
        if claimed < len(rows):  # someone changed a row meanwhile (no row locks): announce what we claimed
            mine = set(session.scalars(select(D.instance_id).where(D.claim_token == token)))
            announce = [a for a in announce if a[0].instance_id in mine]
        self._announce(session, announce, now)

    def _announce(self, session: Session, announce: list, now: datetime) -> None:  # type: ignore[type-arg]
        missed = [r for r, status, _ in announce if status == "missed"]
        ring = [(r, at) for r, status, at in announce if status == "alerting"]
        events = [e for r in missed for e in emit.missed(r, now, closes=True)]
        events += [emit.due(r, r.name or "", at) for r, at in ring if at <= now]
        observe_each(REMINDER_LATENESS, ((now - at).total_seconds() for _, at in ring if at <= now))
        OUTBOX.add(session, *events)
        held.hold(session, ((emit.due(r, r.name or "", at), r.user_id, at) for r, at in ring if at > now))
        if missed:
            marks = [
                emit.dose_event("miss", "system", now, now, instance_id=r.instance_id, user_id=r.user_id)
                for r in missed
            ]
            session.execute(DoseEvent.__table__.insert(), marks)
        if announce:
            log.info("reminders", ringing=len(ring), missed=len(missed))

    def seconds_to_next(self) -> float:
        """How long until the next staged reminder, dose to claim (lookahead early) or deadline; at most
        the poll interval."""
        now = self.clock()
        with self.db.transaction() as session:
            ahead = session.scalar(select(func.min(D.next_at)).where(D.next_at > now + self.lookahead))
            deadline = session.scalar(
                select(func.min(D.next_at)).where(
                    D.next_at > now, D.next_at <= now + self.lookahead, D.status == "alerting"
                )
            )
            release = held.next_release(session)
        wakes = [t for t in (ahead and ahead - self.lookahead, deadline, release) if t is not None]
        if not wakes:
            return self.poll
        return max(0.0, min(self.poll, (min(wakes) - now).total_seconds()))

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
