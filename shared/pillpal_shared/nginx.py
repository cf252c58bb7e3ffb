"""The nginx API gateway's config, rendered from the one route table (`routes.py`), so it cannot drift
from the dev gateway.

`python -m pillpal_shared.nginx --compose --out deploy/nginx/nginx.conf` writes the production config
(a test checks that the committed file equals this rendering). With `runtime_dir`, the config runs nginx
as a foreground child process whose pid, logs and temp files all live in that directory.

Plain HTTP with `redirect_http`: every path answers 308 to HTTPS (308 keeps the method and body of a
POST, where 301 turns it into a GET), except `/api/health`, which stays reachable over plain HTTP for
load balancers and container health checks; it carries no personal data.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .routes import ROUTES, UPSTREAMS, resolve

BODY_LIMIT = "64k"  # the largest API body (a medication with four times) is well under 2 KiB
RATE_LIMITED = ("/api/auth/login", "/api/auth/register")
LOGIN_RATE = "5r/s"  # per client address
LOGIN_BURST = 20
COMPOSE_UPSTREAMS = {service: f"{service}:8000" for service in UPSTREAMS}
ERRORS = {
    404: "No such API route",
    413: f"The request body is too large (the limit is {BODY_LIMIT}B)",
    429: "Too many attempts; wait a moment and try again",
    500: "The gateway failed; the request id in X-Request-ID helps us find it",
    502: "The service is not reachable; try again shortly",
    503: "The service is unavailable; try again shortly",
    504: "The service did not answer in time; try again shortly",
}
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def upstream_name(service: str) -> str:
    return "pillpal_" + service.replace("-", "_")


def _main(runtime_dir: str | None) -> list[str]:
    lines = ["worker_processes auto;"]
    if runtime_dir is None:
        return [*lines, "error_log stderr warn;", "", "events {", "    worker_connections 4096;", "}"]
    if os.geteuid() == 0:
        lines.append("user root;")  # workers must reach runtime_dir, which may be private to root
    lines += ["daemon off;", f"pid {runtime_dir}/nginx.pid;", f"error_log {runtime_dir}/error.log warn;"]
    return [*lines, "", "events {", "    worker_connections 1024;", "}"]


def _http_settings(runtime_dir: str | None, rate_limit: bool) -> list[str]:
    access_log = f"{runtime_dir}/access.log" if runtime_dir else "/dev/stdout"
    lines = [
        "server_tokens off;",
        "default_type application/json;",
        f"client_max_body_size {BODY_LIMIT};",
        "keepalive_timeout 65s;",
        "",
        "# A client's X-Request-ID is kept when it looks sane; otherwise nginx makes one.",
        "map $http_x_request_id $pillpal_request_id {",
        "    default $request_id;",
        '    "~^[A-Za-z0-9._:-]{1,128}$" $http_x_request_id;',
        "}",
        "",
        "# $uri, not $request_uri: the shipped app puts its token into a query parameter.",
        'log_format pillpal escape=json \'{"time":"$time_iso8601","request_id":"$pillpal_request_id",'
        '"remote_addr":"$remote_addr","method":"$request_method","uri":"$uri","status":$status,'
        '"bytes":$body_bytes_sent,"request_time":$request_time,"upstream":"$upstream_addr",'
        '"upstream_time":"$upstream_response_time"}\';',
        f"access_log {access_log} pillpal;",
    ]
    if runtime_dir:
        lines += [f"{name}_temp_path {runtime_dir}/{name}_temp;" for name in TEMP_PATHS]
    if rate_limit:
        lines += ["", f"limit_req_zone $binary_remote_addr zone=pillpal_login:10m rate={LOGIN_RATE};"]
        lines += ["limit_req_status 429;"]
    lines += [
        "",
        "# Keep-alive connections to the services: HTTP/1.1 and no Connection header.",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Request-ID $pillpal_request_id;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_hide_header X-Request-ID;",
        "proxy_connect_timeout 5s;",
        "proxy_read_timeout 60s;",
    ]
    return lines


def _upstreams(upstreams: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for service in sorted(upstreams):
        lines += [f"upstream {upstream_name(service)} {{", f"    server {upstreams[service]};", "    keepalive 64;"]
        lines += ["    keepalive_requests 10000;", "    keepalive_timeout 60s;", "}"]
    return lines


def _proxy(match: str, service: str, extra: tuple[str, ...] = ()) -> list[str]:
    body = [*extra, f"proxy_pass http://{upstream_name(service)};"]
    return [f"location {match} {{", *(f"    {line}" for line in body), "}"]


def _routes(upstreams: dict[str, str], rate_limit: bool) -> list[str]:
    """One location per route; nginx takes the longest matching prefix, as the route table's order does."""
    lines: list[str] = []
    if rate_limit:
        for path in RATE_LIMITED:
            service = resolve(path)
            if service in upstreams:
                lines += _proxy(f"= {path}", service, (f"limit_req zone=pillpal_login burst={LOGIN_BURST} nodelay;",))
    for prefix, service in ROUTES:
        if service not in upstreams:
            continue
        if prefix.endswith("/"):  # "/api/auth" itself belongs to the route too, without nginx's 301
            lines += _proxy(f"= {prefix.rstrip('/')}", service)
        lines += _proxy(f"^~ {prefix}", service)
    return [*lines, "location / {", "    return 404;", "}"]


def _error_pages() -> list[str]:
    lines = ["add_header X-Request-ID $pillpal_request_id always;"]
    for status, message in ERRORS.items():
        lines += [f"error_page {status} @error_{status};", f"location @error_{status} {{"]
        lines += ["    default_type application/json;", f'    return {status} \'{{"error": "{message}"}}\';', "}"]
    return lines


def _server(listen: list[str], body: list[str]) -> list[str]:
    return ["server {", *(f"    {line}" if line else "" for line in [*listen, *_error_pages(), *body]), "}"]


def render_nginx(
    *,
    upstreams: dict[str, str],
    http_port: int,
    https_port: int | None = None,
    cert_dir: str | None = None,
    redirect_http: bool = False,
    runtime_dir: str | None = None,
    rate_limit: bool = True,
) -> str:
    """A complete nginx.conf routing ROUTES to `upstreams` ({service: "host:port"}); others are left out."""
    if https_port is not None and not cert_dir:
        raise ValueError("https_port needs cert_dir (holding fullchain.pem and privkey.pem)")
    if redirect_http and https_port is None:
        raise ValueError("redirect_http needs https_port")
    routes = _routes(upstreams, rate_limit)
    servers: list[str] = []
    if redirect_http:
        target = "https://$host" + ("" if https_port == 443 else f":{https_port}") + "$request_uri"
        health = [r for r in ROUTES if r[0] == "/api/health" and r[1] in upstreams]
        plain = [line for prefix, service in health for line in _proxy(f"= {prefix}", service)]
        servers += _server([f"listen {http_port};"], [*plain, "location / {", f"    return 308 {target};", "}"])
    else:
        servers += _server([f"listen {http_port};"], routes)
    if https_port is not None:
        tls = [
            f"listen {https_port} ssl;",
            f"ssl_certificate {cert_dir}/fullchain.pem;",
            f"ssl_certificate_key {cert_dir}/privkey.pem;",
            "ssl_protocols TLSv1.2 TLSv1.3;",
            "ssl_session_cache shared:pillpal_tls:10m;",
            "ssl_session_timeout 1d;",
            'add_header Strict-Transport-Security "max-age=31536000" always;',
        ]
        servers += ["", *_server(tls, routes)]
    http = [*_http_settings(runtime_dir, rate_limit), "", *_upstreams(upstreams), "", *servers]
    header = ["# Generated from shared/pillpal_shared/routes.py by `python -m pillpal_shared.nginx`; do not edit."]
    lines = [*header, *_main(runtime_dir), "", "http {", *(f"    {line}" if line else "" for line in http), "}"]
    return "\n".join(lines) + "\n"


def render_compose() -> str:
    """The production config of docker-compose.yml (committed as deploy/nginx/nginx.conf)."""
    return render_nginx(
        upstreams=COMPOSE_UPSTREAMS, http_port=80, https_port=443, cert_dir="/etc/nginx/certs", redirect_http=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write PillPal's nginx.conf from the route table.")
    parser.add_argument("--out", required=True, type=Path, help="the file to write")
    parser.add_argument("--compose", action="store_true", help="the production config of docker-compose.yml")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port of the local config (default 8080)")
    args = parser.parse_args(argv)
    if args.compose:
        text = render_compose()
    else:
        local = {service: f"127.0.0.1:{upstream.port}" for service, upstream in UPSTREAMS.items()}
        text = render_nginx(upstreams=local, http_port=args.port)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
