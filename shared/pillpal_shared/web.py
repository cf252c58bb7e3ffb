"""The Flask pieces every service shares: the app skeleton, request ids, auth, body loading, health."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import structlog
from flask import Flask, Response, current_app, g, request
from marshmallow import Schema

from .config import CommonSettings
from .db import Database
from .errors import ApiError, error_response, register_error_handlers
from .logs import configure_logging
from .metrics import HTTP_LATENCY, exposition
from .tokens import InvalidToken, TokenVerifier

F = TypeVar("F", bound=Callable[..., Any])
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes
log = structlog.get_logger(__name__)


def create_service_app(name: str, db: Database, verifier: TokenVerifier | None) -> Flask:
    """The skeleton of a service's app: JSON errors, request ids, metrics, liveness and readiness."""
    app = Flask(name)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["pillpal.db"] = db
    app.extensions["pillpal.verifier"] = verifier
    register_error_handlers(app)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        HTTP_LATENCY.labels(request.method, route, str(response.status_code)).observe(elapsed)
        if route not in _QUIET_ROUTES:  # one line per API call, carrying request_id (and user_id once known)
            log.info(
                "http_request",
                method=request.method,
                route=route,
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 1),
            )
        return response

    @app.get("/healthz")
    def _live():  # type: ignore[no-untyped-def]
        return {"status": "ok"}

    @app.get("/readyz")
    def _ready():  # type: ignore[no-untyped-def]
        ok = db.ping()
        return {"status": "ok" if ok else "unavailable", "db": ok}, 200 if ok else 503

    @app.get("/metrics")
    def _metrics():  # type: ignore[no-untyped-def]
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    return app


def bootstrap_app(service: str, common: CommonSettings, db: Database | None = None, *, pool_size: int = 10) -> Flask:
    """Every service's factory starts here: logging, the pooled database and token verification."""
    configure_logging(service, common.log_format, common.log_level)
    db = db or Database(common.database_url, pool_size=pool_size)
    verifier = TokenVerifier(common.jwt_public_key, common.jwt_issuer, common.jwt_audience)
    return create_service_app(service, db, verifier)


def database() -> Database:
    return current_app.extensions["pillpal.db"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_auth(view: F) -> F:
    """Verifies the bearer token and sets g.user_id; answers 401 otherwise."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            return error_response(401, "Sign in first: send Authorization: Bearer <token>")
        verifier: TokenVerifier = current_app.extensions["pillpal.verifier"]
        try:
            claims = verifier.verify(token)
        except InvalidToken:
            return error_response(401, "Your session is invalid or has expired; sign in again")
        g.user_id = claims.user_id
        g.claims = claims
        structlog.contextvars.bind_contextvars(user_id=claims.user_id)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def load_body(schema: Schema) -> Any:
    """Parses the JSON body and validates it with `schema`; a non-JSON or non-object body answers 400."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object", {"body": ["Expected a JSON object."]})
    return schema.load(payload)
