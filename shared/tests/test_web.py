"""The service app skeleton: JSON errors, request ids in responses and logs, readiness, metrics, auth."""

import json

import pytest
import structlog
from flask import g
from marshmallow import fields

from pillpal_shared.db import Database
from pillpal_shared.errors import ApiError
from pillpal_shared.logs import configure_logging
from pillpal_shared.schemas import RequestSchema
from pillpal_shared.web import create_service_app, load_body, require_auth


class Body(RequestSchema):
    name = fields.String(required=True)


@pytest.fixture
def app(keys, tmp_path):
    app = create_service_app("t", Database(f"sqlite:///{tmp_path / 't.db'}"), keys.verifier())

    @app.post("/echo")
    def echo():
        structlog.get_logger("test").info("echo_called")
        return load_body(Body())

    @app.get("/mine")
    @require_auth
    def mine():
        return {"user_id": g.user_id}

    @app.get("/teapot")
    def teapot():
        raise ApiError(418, "I am a teapot", {"pot": ["Too hot."]})

    @app.get("/boom")
    def boom():
        raise RuntimeError("bug")

    return app


def test_request_id_is_echoed_and_bound_to_every_log_line(app, capsys):
    configure_logging("t", "json", "INFO")
    response = app.test_client().post("/echo", json={"name": "x", "extra": 1}, headers={"X-Request-ID": "abc-123"})
    assert response.json == {"name": "x"}  # unknown fields are ignored
    assert response.headers["X-Request-ID"] == "abc-123"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    echo = next(line for line in lines if line["event"] == "echo_called")
    assert echo["request_id"] == "abc-123" and echo["service"] == "t"


def test_a_request_id_is_made_when_none_or_a_bad_one_is_sent(app):
    first = app.test_client().get("/healthz").headers["X-Request-ID"]
    second = app.test_client().get("/healthz", headers={"X-Request-ID": "bad id; with spaces"}).headers["X-Request-ID"]
    assert len(first) == 32 and len(second) == 32 and first != second


def test_errors_share_one_json_shape(app):
    client = app.test_client()
    assert client.get("/teapot").json == {"error": "I am a teapot", "fields": {"pot": ["Too hot."]}}
    missing = client.post("/echo", json={})
    assert missing.status_code == 400 and missing.json["fields"] == {"name": ["Missing data for required field."]}
    assert client.post("/echo", data="{", content_type="application/json").status_code == 400
    assert client.get("/nowhere").json["error"]
    crash = client.get("/boom")
    assert crash.status_code == 500 and "bug" not in crash.json["error"]


def test_require_auth(app, keys):
    client = app.test_client()
    assert client.get("/mine").status_code == 401
    token = keys.signer().issue(7)
    assert client.get("/mine", headers={"Authorization": f"Bearer {token}"}).json == {"user_id": 7}


def test_readiness_and_metrics(app, keys):
    client = app.test_client()
    assert client.get("/readyz").json == {"status": "ok", "db": True}
    client.get("/healthz")
    assert b"pillpal_http_request_duration_seconds" in client.get("/metrics").data
    down = create_service_app("down", Database("mysql+pymysql://root@127.0.0.1:1/x"), keys.verifier())
    assert down.test_client().get("/readyz").status_code == 503
