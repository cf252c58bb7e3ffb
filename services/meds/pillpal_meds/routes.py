"""HTTP entry points of meds (calls 5-9 of CONTRACTS.md, plus PATCH): validate, call one domain
function, answer a MedicationResponse. `/api/medications/history` belongs to adherence: the
`<int:med_id>` converter never matches it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from pillpal_shared.errors import ApiError
from pillpal_shared.web import database, load_body, require_auth

from .reads import list_json, one_json
from .schemas import MedicationSchema
from .service import NOT_FOUND, Medications
from .views import present

bp = Blueprint("meds", __name__)
_medication = MedicationSchema()


def medications() -> Medications:
    return current_app.extensions["pillpal.meds"]


@bp.get("/api/medications")
@require_auth
def list_all():  # type: ignore[no-untyped-def]
    # The seed's `?user_id=X` is an older form of this call: the user always comes from the token.
    with database().read() as conn:
        return Response(list_json(conn, g.user_id), mimetype="application/json")


@bp.get("/api/medications/<int:med_id>")
@require_auth
def get_one(med_id: int):  # type: ignore[no-untyped-def]
    with database().read() as conn:
        found = one_json(conn, g.user_id, med_id)
    if found is None:
        raise ApiError(404, NOT_FOUND)
    return Response(found, mimetype="application/json")


@bp.post("/api/medications")
@require_auth
def create():  # type: ignore[no-untyped-def]
    body = load_body(_medication)
    with database().transaction() as session:
        med = medications().create(session, g.user_id, body)
        return present(med), 201


@bp.put("/api/medications/<int:med_id>")
@require_auth
def replace(med_id: int):  # type: ignore[no-untyped-def]
    body = load_body(_medication)
    with database().transaction() as session:
        return present(medications().replace(session, g.user_id, med_id, body))


@bp.patch("/api/medications/<int:med_id>")
@require_auth
def patch(med_id: int):  # type: ignore[no-untyped-def]
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ApiError(400, "The request body must be a JSON object", {"body": ["Expected a JSON object."]})
    with database().transaction() as session:
        return present(medications().patch(session, g.user_id, med_id, changes))


@bp.delete("/api/medications/<int:med_id>")
@require_auth
def delete(med_id: int):  # type: ignore[no-untyped-def]
    with database().transaction() as session:
        medications().delete(session, g.user_id, med_id)
    return {"status": "deleted"}
