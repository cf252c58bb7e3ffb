"""Schedule expansion: a medication's rule, in its owner's IANA time zone, to dose times in UTC. Pure logic.

Daylight saving: a local time that does not exist that day (the clocks jump over it) moves forward by the
length of the jump (01:30 on a spring-forward night in Dublin fires at 02:30 IST, the same instant as
01:30 GMT); a local time that happens twice (fall back) fires once, at its first occurrence (fold=0).
Two times of one rule that land on the same instant make one dose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPEAT_TYPES = ("once", "daily", "weekly", "custom", "interval")


@dataclass(frozen=True)
class Rule:
    repeat_type: str
    times: tuple[str, ...]  # zero-padded "HH:MM", the owner's wall clock
    day_mask: str | None = None  # weekly: seven 0/1, index 0 = Monday
    interval_days: int | None = None
    custom_start: date | None = None
    custom_end: date | None = None
    active_start: date | None = None  # the medication's active dates, both included
    active_end: date | None = None
    lead_minutes: int = 0

    def first_day(self) -> date | None:
        """The earliest day a dose can fall on, if the rule bounds it."""
        starts = [d for d in (self.active_start, self._own_start()) if d is not None]
        return max(starts) if starts else None

    def last_day(self) -> date | None:
        """The last day a dose can fall on; None when the rule is open-ended."""
        ends = [d for d in (self.active_end, self._own_end()) if d is not None]
        return min(ends) if ends else None

    def occurs_on(self, day: date) -> bool:
        first, last = self.first_day(), self.last_day()
        if (first is not None and day < first) or (last is not None and day > last):
            return False
        kind = self.repeat_type
        if kind in ("daily", "custom"):
            return True
        if kind == "weekly":
            mask = self.day_mask or "1111111"
            return mask[day.weekday()] == "1"
        if kind == "once":
            return day == self._anchor()
        if kind == "interval":
            anchor = self._anchor()
            return anchor is not None and (day - anchor).days % max(self.interval_days or 1, 1) == 0
        return False

    def _anchor(self) -> date | None:
        return self.custom_start or self.active_start

    def _own_start(self) -> date | None:
        return self._anchor() if self.repeat_type in ("once", "custom", "interval") else None

    def _own_end(self) -> date | None:
        if self.repeat_type == "once":
            return self._anchor()
        return self.custom_end if self.repeat_type == "custom" else None


@dataclass(frozen=True)
class Occurrence:
    local_date: date  # the owner's local day of the instant
    local_time: str  # "HH:MM" on the owner's wall clock at the moment the dose fires
    scheduled_at: datetime  # aware UTC


def zone_for(name: str | None) -> ZoneInfo:
    """The IANA zone of that name; UTC for anything unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def to_utc(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock time that day: nonexistent moves forward, ambiguous takes fold=0."""
    hour, minute = int(hhmm[:2]), int(hhmm[3:5])
    return datetime.combine(day, time(hour, minute), tzinfo=zone).replace(fold=0).astimezone(UTC)


def days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def expand(rule: Rule, zone: ZoneInfo, start: date, end: date) -> list[Occurrence]:
    """Every dose of the rule on the local days start..end (both included), in time order, none doubled."""
    first, last = rule.first_day(), rule.last_day()
    start = max(start, first) if first else start
    end = min(end, last) if last else end
    seen: set[datetime] = set()
    found: list[Occurrence] = []
    for day in days(start, end):
        if not rule.occurs_on(day):
            continue
        for hhmm in sorted(set(rule.times)):
            at = to_utc(day, hhmm, zone)
            if at in seen:
                continue
            seen.add(at)
            wall = at.astimezone(zone)
            found.append(Occurrence(wall.date(), wall.strftime("%H:%M"), at))
    return found
