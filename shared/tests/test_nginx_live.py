"""A real nginx, started with the rendered config, in front of small local HTTP stubs (one per service)."""

import http.client
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pillpal_shared.certs import write_self_signed
from pillpal_shared.nginx import render_nginx
from pillpal_shared.routes import resolve
from pillpal_shared.testing import free_port, port_open

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
STUBBED = ("auth", "meds", "adherence")  # device-gateway points at a port where nothing listens: 502


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream connections expect

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {"service": self.server.service, "path": self.path, "request_id": self.headers.get("X-Request-ID")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", "from-the-service")  # the gateway's own id must win, once
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Gateway:
    http_port: int
    https_port: int
    cert: Path

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, tls=False):
        if tls:
            context = ssl.create_default_context(cafile=str(self.cert))
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=context, timeout=10)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    runtime = tmp_path_factory.mktemp("nginx")
    servers = []
    upstreams = {"device-gateway": f"127.0.0.1:{free_port()}"}
    for service in STUBBED:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        server.service = service
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        upstreams[service] = f"127.0.0.1:{server.server_address[1]}"
    write_self_signed(runtime / "certs")
    http_port, https_port = free_port(), free_port()
    conf = runtime / "nginx.conf"
    conf.write_text(
        render_nginx(
            upstreams=upstreams,
            http_port=http_port,
            https_port=https_port,
            cert_dir=str(runtime / "certs"),
            runtime_dir=str(runtime),
        )
    )
    process = subprocess.Popen(["nginx", "-p", str(runtime), "-c", str(conf)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not (port_open("127.0.0.1", http_port) and port_open("127.0.0.1", https_port)):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "nginx did not start"
        time.sleep(0.05)
    try:
        yield Gateway(http_port, https_port, runtime / "certs" / "fullchain.pem")
    finally:
        process.terminate()
        process.wait(timeout=10)
        for server in servers:
            server.shutdown()


def json_error(status: int, headers, body: bytes) -> str:
    assert dict(headers)["Content-Type"] == "application/json"
    return json.loads(body)["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/health",
        "/api/auth",
        "/api/auth/me",
        "/api/medications",
        "/api/medications/12",
        "/api/medications/history?from=Bearer%20abc&to=",
        "/api/medications/history",
        "/api/calendar/day?date=2026-12-04",
        "/api/dose/update",
        "/api/adherence/summary",
    ],
)
def test_each_path_reaches_the_service_of_the_route_table(gateway, path):
    status, _, body = gateway.request("GET", path)
    assert status == 200
    answer = json.loads(body)
    assert answer["service"] == resolve(path.split("?")[0])
    assert answer["path"] == path


def test_history_goes_to_adherence_not_meds(gateway):
    _, _, body = gateway.request("GET", "/api/medications/history")
    assert json.loads(body)["service"] == "adherence"


def test_tls_listener_routes_too(gateway):
    status, _, body = gateway.request("GET", "/api/medications/history", tls=True)
    assert status == 200 and json.loads(body)["service"] == "adherence"


def test_request_id_is_made_passed_on_and_returned_once(gateway):
    status, headers, body = gateway.request("GET", "/api/auth/me")
    ids = [value for name, value in headers if name.lower() == "x-request-id"]
    assert status == 200 and len(ids) == 1 and len(ids[0]) == 32
    assert json.loads(body)["request_id"] == ids[0]


def test_a_clients_request_id_is_kept_and_a_bad_one_replaced(gateway):
    _, headers, body = gateway.request("GET", "/api/auth/me", headers={"X-Request-ID": "app-42.1"})
    assert dict(headers)["X-Request-ID"] == "app-42.1" and json.loads(body)["request_id"] == "app-42.1"
    _, headers, _ = gateway.request("GET", "/api/auth/me", headers={"X-Request-ID": "bad id\u00e9"})
    assert dict(headers)["X-Request-ID"] != "bad id\u00e9"


def test_unknown_path_answers_json_404(gateway):
    status, headers, body = gateway.request("GET", "/nowhere")
    assert status == 404 and json_error(status, headers, body)
    assert "X-Request-ID" in dict(headers)


def test_too_large_body_answers_json_413(gateway):
    big = json.dumps({"name": "x" * 100_000}).encode()
    status, headers, body = gateway.request("POST", "/api/medications", big, {"Content-Type": "application/json"})
    assert status == 413 and "too large" in json_error(status, headers, body)


def test_unreachable_service_answers_json_502(gateway):
    status, headers, body = gateway.request("GET", "/api/device/alert_status?device_id=1")
    assert status == 502 and json_error(status, headers, body)
    assert "X-Request-ID" in dict(headers)


def test_login_flood_answers_json_429(gateway):
    answers = [gateway.request("POST", "/api/auth/login", b"{}") for _ in range(60)]
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 200
    limited = [a for a in answers if a[0] == 429]
    assert limited, statuses
    assert "wait" in json_error(*limited[0])
