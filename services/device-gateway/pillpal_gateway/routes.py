"""HTTP entry points of the device-gateway: parse and validate, call one domain operation, shape the answer."""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from pillpal_shared.errors import error_response
from pillpal_shared.web import database, load_body, require_auth

from . import pairing, settings
from .schemas import BoxSchema, PairSchema, SettingsUpdateSchema, settings_body
from .service import BoxAuthRequired, Gateway

bp = Blueprint("device_gateway", __name__)
_pair, _settings, _boxes = PairSchema(), SettingsUpdateSchema(), BoxSchema(many=True)


def gateway() -> Gateway:
    return current_app.extensions["pillpal.gateway"]


# --- boxes --------------------------------------------------------------------------------------


@bp.post("/api/devices/pair")
@require_auth
def pair():  # type: ignore[no-untyped-def]
    body = load_body(_pair)
    with database().transaction() as session:
        created = gateway().pair(session, g.user_id, body["device_id"], body["pairing_code"])
        boxes = [b for b in pairing.list_boxes(session, g.user_id) if b.device_id == body["device_id"]]
    return _boxes.dump(boxes)[0], 201 if created else 200


@bp.get("/api/devices")
@require_auth
def list_devices():  # type: ignore[no-untyped-def]
    with database().transaction() as session:
        return _boxes.dump(pairing.list_boxes(session, g.user_id))


@bp.delete("/api/devices/<device_id>")
@require_auth
def unpair(device_id: str):  # type: ignore[no-untyped-def]
    with database().transaction() as session:
        gateway().unpair(session, g.user_id, device_id)
    return {"status": "unpaired", "device_id": device_id}


# --- settings (call 13) -------------------------------------------------------------------------


@bp.post("/api/settings/update")
@require_auth
def update_settings():  # type: ignore[no-untyped-def]
    changes = load_body(_settings)
    with database().transaction() as session:
        preferences = gateway().update_settings(session, g.user_id, changes)
    return {"status": "ok", **settings_body(preferences)}


@bp.get("/api/settings")
@require_auth
def get_settings():  # type: ignore[no-untyped-def]
    with database().transaction() as session:
        return settings_body(settings.get(session, g.user_id))


# --- the device calls: the app's alert status (call 14) and the firmware's poll -----------------


@bp.get("/api/device/alert_status")
@require_auth
def alert_status():  # type: ignore[no-untyped-def]
    # The shipped app always sends device_id=1: the answer is the caller's, whatever it says.
    with database().transaction() as session:
        return gateway().alert_status(session, g.user_id)


@bp.get("/api/device/poll")
def poll():  # type: ignore[no-untyped-def]
    auth = request.authorization
    credentials = (auth.username or "", auth.password or "") if auth and auth.type == "basic" else None
    try:
        with database().transaction() as session:
            return gateway().poll_box(session, credentials, request.args.get("device_id"))
    except BoxAuthRequired as exc:
        response = error_response(401, f"Box credentials required ({exc}): HTTP Basic with the box's MQTT login")
        response.headers["WWW-Authenticate"] = 'Basic realm="pillpal-box"'
        return response
