"""One JSON error shape for every HTTP error: {"error": "<message>", "fields": {"<field>": ["..."]}}."""

from __future__ import annotations

from typing import Any

import structlog
from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields


def error_response(status: int, message: str, fields: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"error": message}
    if fields:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def _first_message(fields: dict[str, Any]) -> str:
    """The first problem, named by its full path: "schedule.times: ..." for a nested field."""
    path: list[str] = []
    detail: Any = fields
    while isinstance(detail, dict) and detail:
        key, detail = next(iter(detail.items()))
        path.append(str(key))
        while isinstance(detail, list) and detail:
            detail = detail[0]
    return f"{'.'.join(path)}: {detail}" if path else "Invalid request"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
        return error_response(exc.status, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):  # type: ignore[no-untyped-def]
        fields = exc.messages if isinstance(exc.messages, dict) else {"body": exc.messages}
        return error_response(400, _first_message(fields), fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        response = error_response(exc.code or 500, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled_error")
        return error_response(500, "Internal server error; the request id in X-Request-ID helps us find it")
