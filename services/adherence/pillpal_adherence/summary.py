"""Adherence figures, per medication and overall (GET /api/adherence/summary).

Counted: the caller's doses in the local-date range whose time has come, or that are already decided
(a dose taken at its reminder, before its time); cancelled ones excluded.
- taken, missed; pending = neither yet (still within the grace period);
- taken_on_time = taken within `on_time` (default 30 min) either side of the scheduled time;
- adherence_percent = taken / (taken + missed), one decimal; null when nothing is decided yet;
- below_threshold = adherence_percent < 80 (the threshold PQA uses for PDC);
- current_streak_days: consecutive local days, back from today, on which every decided dose was taken
  (a day with a missed dose ends it; days with no decided dose neither count nor break it); looked up
  to a year back whatever the range.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .doses import user_zone
from .models import DoseInstance, Medication
from .schedule import local_today

D = DoseInstance
THRESHOLD = 80.0
STREAK_LOOKBACK = timedelta(days=366)
DECIDED = ("taken", "missed")


@dataclass
class Tally:
    scheduled: int = 0
    taken: int = 0
    taken_on_time: int = 0
    missed: int = 0
    days: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, status: str, on_time: bool) -> None:
        self.scheduled += 1
        self.taken += status == "taken"
        self.taken_on_time += status == "taken" and on_time
        self.missed += status == "missed"

    def streak(self) -> int:
        count = 0
        for day in sorted(self.days, reverse=True):
            statuses = self.days[day]
            if "missed" in statuses:
                break
            count += "taken" in statuses
        return count

    def body(self) -> dict[str, Any]:
        decided = self.taken + self.missed
        percent = round(100.0 * self.taken / decided, 1) if decided else None
        return {
            "scheduled": self.scheduled,
            "taken": self.taken,
            "taken_on_time": self.taken_on_time,
            "missed": self.missed,
            "pending": self.scheduled - decided,
            "adherence_percent": percent,
            "below_threshold": percent is not None and percent < THRESHOLD,
            "current_streak_days": self.streak(),
        }


def summary(
    session: Session, user_id: int, start: date, end: date, now: datetime, on_time: timedelta
) -> dict[str, Any]:
    zone = user_zone(session, user_id)
    today = local_today(now, zone)
    end = min(end, today)
    rows = session.execute(
        select(D.med_id, Medication.name, D.local_date, D.status, D.scheduled_at, D.taken_at)
        .join(Medication, Medication.med_id == D.med_id)
        .where(D.user_id == user_id, D.local_date >= min(start, today - STREAK_LOOKBACK), D.local_date <= today)
        .where(or_(D.scheduled_at <= now, D.status.in_(DECIDED)), D.status != "cancelled")
    ).all()
    overall, per_med, names = Tally(), defaultdict(Tally), {}
    for r in rows:
        names[r.med_id] = r.name
        for tally in (overall, per_med[r.med_id]):
            tally.days[r.local_date].add(r.status)
            if start <= r.local_date <= end:
                punctual = r.taken_at is not None and abs(r.taken_at - r.scheduled_at) <= on_time
                tally.add(r.status, punctual)
    medications = [
        {"med_id": med_id, "name": names[med_id], **tally.body()}
        for med_id, tally in sorted(per_med.items(), key=lambda item: (names[item[0]], item[0]))
        if tally.scheduled
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": zone.key,
        "on_time_window_minutes": int(on_time.total_seconds() // 60),
        "threshold_percent": THRESHOLD,
        "overall": overall.body(),
        "medications": medications,
    }
