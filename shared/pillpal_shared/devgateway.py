"""The dev API gateway of `make run`: a small proxy built from the one route table (routes.py).

Production uses nginx, rendered from the same table. Configured by PILLPAL_GATEWAY_UPSTREAMS,
"service=host:port,..." (System sets it); `gunicorn pillpal_shared.devgateway:app`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.http_proxy import ProxyMiddleware

from .routes import ROUTES


def _not_found(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = json.dumps({"error": f"No route for {environ.get('PATH_INFO', '')}"}).encode()
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class RequestIds:
    """Sets X-Request-ID on the way in when the client sent none, as nginx does."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ.setdefault("HTTP_X_REQUEST_ID", uuid.uuid4().hex)
        return self.app(environ, start_response)


def create_gateway(upstreams: dict[str, str]) -> Any:
    targets = {
        prefix: {"target": f"http://{upstreams[service]}/", "host": None}
        for prefix, service in ROUTES
        if service in upstreams
    }
    return RequestIds(ProxyMiddleware(_not_found, targets, timeout=30))


def _from_env() -> dict[str, str]:
    raw = os.environ.get("PILLPAL_GATEWAY_UPSTREAMS", "")
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {service.strip(): address.strip() for service, address in pairs}


app = create_gateway(_from_env())
