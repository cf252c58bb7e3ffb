"""Box events mapped to doses, a consumer batch at a time (see matching.py for which dose).

Per batch: one query for the owners the events do not name, one locked query for the candidate doses of
every owner in the batch, then one bulk insert of dose events, one bulk update of the doses taken and one
outbox insert. `device.pill_taken` records `ack_taken` and closes its dose as taken (`dose.taken`,
`dose.closed`); `device.alert_started` records `alert_started`. An event that matches no dose is recorded
with instance_id NULL and its reason in meta: kept, never lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.orm import Session

from pillpal_shared.db import UTCDateTime
from pillpal_shared.envelope import Envelope

from . import emit, held
from .config import AdherenceSettings
from .matching import Candidate, Window, choose
from .models import OPEN, OUTBOX, DeviceOwner, DoseEvent, DoseInstance
from .service import MAX_SNOOZE

D = DoseInstance
KIND = {"device.pill_taken": "ack_taken", "device.alert_started": "alert_started"}


class BoxEvents:
    def __init__(self, settings: AdherenceSettings, clock: Callable[[], datetime]) -> None:
        self.window = Window(settings.match_early, settings.match_late)
        self.clock = clock

    def apply(self, session: Session, envelopes: list[Envelope]) -> None:
        now = self.clock()
        paired = self._paired(session, envelopes)
        owners = [env.subject.get("user_id") or paired.get(env.subject["device_id"]) for env in envelopes]
        candidates = self._candidates(session, envelopes, owners)
        rows, taken = [], []
        for env, user_id in zip(envelopes, owners, strict=True):
            device_id = env.subject["device_id"]
            kind = KIND.get(env.type, "alert_started")
            dose = choose(candidates[user_id], env.occurred_at, self.window) if user_id is not None else None
            meta = {"raw_event": env.data.get("raw_event"), "form": env.data.get("form")}
            if dose is None:
                meta["unmatched"] = "the box has no owner" if user_id is None else "no open dose within the window"
            elif kind == "ack_taken":
                candidates[user_id].remove(dose)
                taken.append((dose, env.occurred_at))
            rows.append(
                emit.dose_event(
                    kind,
                    "device",
                    env.occurred_at,
                    now,
                    instance_id=dose.instance_id if dose else None,
                    user_id=user_id,
                    device_id=device_id,
                    event_id=env.id,
                    meta=meta,
                )
            )
        session.execute(DoseEvent.__table__.insert(), rows)
        if taken:
            self._close(session, taken, now)

    def _paired(self, session: Session, envelopes: list[Envelope]) -> dict[str, int | None]:
        """Owners from the pairing projection, for the events the gateway stamped with no owner."""
        unknown = {env.subject["device_id"] for env in envelopes if env.subject.get("user_id") is None}
        if not unknown:
            return {}
        known = session.execute(
            select(DeviceOwner.device_id, DeviceOwner.user_id).where(DeviceOwner.device_id.in_(unknown))
        )
        return {row.device_id: row.user_id for row in known}

    def _candidates(
        self, session: Session, envelopes: list[Envelope], owners: list[int | None]
    ) -> defaultdict[int | None, list[Candidate]]:
        found: defaultdict[int | None, list[Candidate]] = defaultdict(list)
        users = {u for u in owners if u is not None}
        if not users:
            return found
        ranges = _merge(sorted(self.window.search_range(e.occurred_at, e.occurred_at, MAX_SNOOZE) for e in envelopes))
        query = (
            select(D.instance_id, D.user_id, D.med_id, D.scheduled_at, D.due_at, D.snoozed_until)
            .where(D.user_id.in_(users), D.status.in_(OPEN))
            .where(or_(*(and_(D.scheduled_at >= lo, D.scheduled_at <= hi) for lo, hi in ranges)))
            .with_for_update()
        )
        for row in session.execute(query):
            found[row.user_id].append(Candidate(*row))
        return found

    def _close(self, session: Session, taken: list[tuple[Candidate, datetime]], now: datetime) -> None:
        at = {dose.instance_id: literal(when, UTCDateTime()) for dose, when in taken}
        session.execute(
            update(D)
            .where(D.instance_id.in_(list(at)), D.status.in_(OPEN))
            .values(status="taken", taken_at=case(at, value=D.instance_id), closed_at=now, next_at=None),
            execution_options={"synchronize_session": False},
        )
        held.drop(session, list(at))  # before our events: a staged dose.due must not follow dose.closed
        OUTBOX.add(session, *(e for dose, when in taken for e in emit.taken(dose, when, "device", closes=True)))


def _merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping time ranges joined, so a batch usually needs one range (a box with a wild clock adds one)."""
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + timedelta(minutes=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
