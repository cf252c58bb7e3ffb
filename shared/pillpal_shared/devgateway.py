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

from .routes import resolve


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


class Dispatcher:
    """Sends each request to the service the route table names (werkzeug's ProxyMiddleware does the
    proxying; its own prefix matching would add a trailing slash, so matching is done here)."""

    def __init__(self, upstreams: dict[str, str]) -> None:
        self.proxy = ProxyMiddleware(_not_found, {}, timeout=30)
        self.options = {
            service: {
                "target": f"http://{address}/",
                "host": None,
                "remove_prefix": False,
                "headers": {},
                "ssl_context": None,
            }
            for service, address in upstreams.items()
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        service = resolve(path)
        if service is None or service not in self.options:
            return _not_found(environ, start_response)
        return self.proxy.proxy_to(self.options[service], path, "")(environ, start_response)


def create_gateway(upstreams: dict[str, str]) -> Any:
    return RequestIds(Dispatcher(upstreams))


def _from_env() -> dict[str, str]:
    raw = os.environ.get("PILLPAL_GATEWAY_UPSTREAMS", "")
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {service.strip(): address.strip() for service, address in pairs}


app = create_gateway(_from_env())
