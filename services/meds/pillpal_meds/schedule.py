"""Pure schedule logic: the rules a schedule must satisfy, and the dates a medication is active.

A schedule is `repeat_type` once/daily/weekly/custom, a `day_mask` (index 0 = Monday), one to four
local `HH:MM` times, `custom_start`/`custom_end` (once and custom) and `lead_minutes` (0-120).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .models import EVERY_DAY

REPEAT_TYPES = ("once", "daily", "weekly", "custom")
DATED = ("once", "custom")  # take their active dates from custom_start/custom_end
MAX_TIMES = 4
Problems = dict[str, list[str]]


def schedule_problems(schedule: dict[str, Any]) -> Problems:
    """What is wrong with a schedule whose fields are individually valid, by field name."""
    problems: Problems = {}
    kind = schedule["repeat_type"]
    start, end = schedule.get("custom_start"), schedule.get("custom_end")
    if kind == "weekly":
        mask = schedule.get("day_mask")
        if mask is None:
            problems["day_mask"] = ["A weekly schedule needs day_mask: seven 0/1 characters, Monday first."]
        elif "1" not in mask:
            problems["day_mask"] = ["A weekly schedule needs at least one day."]
    if kind in DATED and start is None:
        problems["custom_start"] = [f"A {kind} schedule needs custom_start (YYYY-MM-DD)."]
    if kind == "custom" and end is None:
        problems["custom_end"] = ["A custom schedule needs custom_end (YYYY-MM-DD)."]
    if start is not None and end is not None:
        if start > end:
            problems["custom_end"] = ["custom_end must not be before custom_start."]
        elif kind == "once" and start != end:
            problems["custom_end"] = ["A once schedule has one day: custom_end must equal custom_start."]
    return problems


def times_problems(times: list[str]) -> list[str]:
    if not times:
        return ["At least one time is needed."]
    if len(times) > MAX_TIMES:
        return [f"At most {MAX_TIMES} times a day."]
    if len(set(times)) != len(times):
        return ["Each time may appear only once."]
    return []


def parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def format_hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def local_today(clock: Callable[[], datetime], timezone: str | None) -> date:
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return clock().astimezone(zone).date()


@dataclass(frozen=True)
class Resolved:
    """A validated schedule in the shape stored: the mask and dates each repeat type implies."""

    repeat_type: str
    day_mask: str
    times: list[time]
    custom_start: date | None
    custom_end: date | None
    start_date: date | None
    end_date: date | None


def resolve(schedule: dict[str, Any], *, start_date: date | None, end_date: date | None) -> Resolved:
    """once/custom take their active dates from custom_start/custom_end; daily/weekly take the given
    ones. daily means every day; only weekly keeps its mask."""
    kind = schedule["repeat_type"]
    times = sorted(parse_hhmm(t) for t in schedule["times"])
    if kind in DATED:
        first = schedule["custom_start"]
        last = schedule.get("custom_end") or first
        return Resolved(kind, EVERY_DAY, times, first, last, first, last)
    mask = schedule["day_mask"] if kind == "weekly" else EVERY_DAY
    return Resolved(kind, mask, times, None, None, start_date, end_date)
