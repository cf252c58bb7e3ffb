"""The one JSON error shape: a marshmallow error names its field, by full path when nested."""

from flask import Flask
from marshmallow import Schema, fields

from pillpal_shared.errors import _first_message, register_error_handlers


class Inner(Schema):
    times = fields.List(fields.String(), required=True)


class Outer(Schema):
    name = fields.String(required=True)
    schedule = fields.Nested(Inner, required=True)


def test_first_message_names_top_level_and_nested_fields():
    assert _first_message({"name": ["Missing data for required field."]}) == "name: Missing data for required field."
    assert _first_message({"schedule": {"times": ["Too many."]}}) == "schedule.times: Too many."
    assert (
        _first_message({"schedule": {"times": {0: ["Not a valid string."]}}}) == "schedule.times.0: Not a valid string."
    )
    assert _first_message({}) == "Invalid request"


def test_validation_error_answers_400_with_fields():
    app = Flask(__name__)
    register_error_handlers(app)

    @app.post("/x")
    def x():
        return Outer().load({"name": "a", "schedule": {"times": [1]}})

    response = app.test_client().post("/x")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "schedule.times.0: Not a valid string."
    assert body["fields"] == {"schedule": {"times": {"0": ["Not a valid string."]}}}
