"""HTTP entry points of adherence: calls 10, 11 and 12 of CONTRACTS.md, mark_taken, snooze, summary."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, g, request

from pillpal_shared.errors import ApiError
from pillpal_shared.web import database, load_body, require_auth

from . import history as days
from . import summary
from .config import AdherenceSettings
from .doses import user_zone
from .schedule import local_today
from .schemas import DayQuerySchema, DoseUpdateSchema, MarkTakenSchema, RangeQuerySchema, SnoozeSchema, lenient_date
from .service import Doses

bp = Blueprint("adherence", __name__)
_update, _mark, _snooze, _day, _range = (
    DoseUpdateSchema(),
    MarkTakenSchema(),
    SnoozeSchema(),
    DayQuerySchema(),
    RangeQuerySchema(),
)


def doses() -> Doses:
    return current_app.extensions["pillpal.doses"]


def settings() -> AdherenceSettings:
    return doses().settings


def _dose_body(dose) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"status": "ok", "instance_id": dose.instance_id, "dose_status": dose.status}


@bp.get("/api/calendar/day")
@require_auth
def calendar_day():  # type: ignore[no-untyped-def]
    on = _day.load(request.args)["date"]
    with database().transaction() as session:
        return days.calendar_day(session, g.user_id, on, doses().clock())


@bp.post("/api/dose/update")
@require_auth
def dose_update():  # type: ignore[no-untyped-def]
    body = load_body(_update)
    with database().transaction() as session:
        return _dose_body(doses().set_status(session, g.user_id, body["instance_id"], body["status"]))


@bp.post("/api/dose/mark_taken")
@require_auth
def mark_taken():  # type: ignore[no-untyped-def]
    body = load_body(_mark)
    with database().transaction() as session:
        return _dose_body(doses().set_status(session, g.user_id, body["instance_id"], "taken"))


@bp.post("/api/dose/<int:instance_id>/snooze")
@require_auth
def snooze(instance_id: int):  # type: ignore[no-untyped-def]
    body = load_body(_snooze)
    with database().transaction() as session:
        dose = doses().snooze(session, g.user_id, instance_id, body["minutes"])
        return {**_dose_body(dose), "snoozed_until": dose.snoozed_until.isoformat().replace("+00:00", "Z")}


@bp.get("/api/medications/history")
@require_auth
def history():  # type: ignore[no-untyped-def]
    # A from/to that is not a date is ignored, not refused: the shipped app puts its token in `from`.
    start, end = lenient_date(request.args.get("from")), lenient_date(request.args.get("to"))
    now = doses().clock()
    with database().transaction() as session:
        start, end = _range_or_default(start, end, local_today(now, user_zone(session, g.user_id)))
        return days.history(session, g.user_id, start, end, now)  # type: ignore[return-value]


@bp.get("/api/adherence/summary")
@require_auth
def adherence_summary():  # type: ignore[no-untyped-def]
    query = _range.load(request.args)
    now = doses().clock()
    with database().transaction() as session:
        start, end = _range_or_default(query["from_"], query["to"], local_today(now, user_zone(session, g.user_id)))
        if start > end:
            raise ApiError(400, "from must not be after to", {"from": ["After to."]})
        return summary.summary(session, g.user_id, start, end, now, settings().on_time)


def _range_or_default(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """Missing ends default to the last `history_days` days up to today; a range is capped at a year."""
    span = timedelta(days=settings().history_days - 1)
    end = end or (min(start + span, today) if start else today)
    start = start or end - span
    return max(start, end - timedelta(days=366)), end
