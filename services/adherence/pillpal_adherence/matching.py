"""Which dose a box's event belongs to. Pure logic.

The seed's rule: `device.pill_taken` records `ack_taken` and closes the matching dose as taken; any other
dose event (`device.alert_started`) records `alert_started` on the matching dose and changes nothing else.

The matching dose, for an event at time t (the box's time) from a box owned by user U:
1. Only U's doses still open (scheduled, alerting or snoozed) are candidates.
2. A dose accepts events from `early` before its scheduled time until `late` after it (or after the end
   of its snooze, if later); `late` is the grace period after which the dose is missed anyway.
3. Among the candidates, doses already due at t (t >= scheduled time - lead minutes) come first: that is
   the dose the box is ringing for, so a late dose is closed before an early one is taken.
4. Within that group the dose whose scheduled time is nearest to t wins; ties go to the earlier dose,
   then the lower instance id.
One event closes at most one dose; the next event of a batch no longer sees a dose already closed.
An event with no candidate is kept as unmatched, with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Candidate:
    instance_id: int
    user_id: int
    med_id: int
    scheduled_at: datetime
    due_at: datetime
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class Window:
    early: timedelta
    late: timedelta

    def accepts(self, dose: Candidate, at: datetime) -> bool:
        last = max(dose.scheduled_at, dose.snoozed_until or dose.scheduled_at) + self.late
        return dose.scheduled_at - self.early <= at <= last

    def search_range(self, earliest: datetime, latest: datetime, max_snooze: timedelta) -> tuple[datetime, datetime]:
        """The scheduled_at range that holds every dose able to accept events between earliest and latest."""
        return earliest - self.late - max_snooze, latest + self.early


def choose(candidates: Iterable[Candidate], at: datetime, window: Window) -> Candidate | None:
    inside = [c for c in candidates if window.accepts(c, at)]
    due = [c for c in inside if c.due_at <= at]
    pool = due or inside
    return min(pool, key=lambda c: (abs(c.scheduled_at - at), c.scheduled_at, c.instance_id), default=None)
