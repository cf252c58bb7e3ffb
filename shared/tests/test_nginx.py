import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pillpal_shared.certs import write_self_signed
from pillpal_shared.nginx import COMPOSE_UPSTREAMS, main, render_compose, render_nginx, upstream_name
from pillpal_shared.routes import ROUTES, UPSTREAMS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "deploy" / "nginx" / "nginx.conf"
LOCAL = {service: f"127.0.0.1:{upstream.port}" for service, upstream in UPSTREAMS.items()}


def locations(conf: str) -> dict[str, str]:
    """{"<modifier> <path>": upstream} for every proxied location of the first server."""
    found = re.findall(r"location ([=^~]+ \S+) \{\n(?:\s+limit_req[^\n]*\n)?\s+proxy_pass http://(\w+);", conf)
    result: dict[str, str] = {}
    for match, upstream in found:
        result.setdefault(match, upstream)
    return result


def assert_nginx_accepts(conf: str, workdir: Path) -> None:
    path = workdir / "nginx.conf"
    path.write_text(conf)
    result = subprocess.run(["nginx", "-t", "-p", str(workdir), "-c", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_committed_production_config_is_what_the_route_table_renders():
    assert COMMITTED.read_text() == render_compose(), "run: python -m pillpal_shared.nginx --compose --out " + str(
        COMMITTED.relative_to(ROOT)
    )


def test_cli_writes_the_production_config(tmp_path):
    assert main(["--compose", "--out", str(tmp_path / "nginx.conf")]) == 0
    assert (tmp_path / "nginx.conf").read_text() == render_compose()


def test_every_route_has_a_location_and_history_goes_to_adherence():
    found = locations(render_nginx(upstreams=LOCAL, http_port=8080))
    assert found["^~ /api/medications/history"] == "pillpal_adherence"
    assert found["^~ /api/medications"] == "pillpal_meds"
    for prefix, service in ROUTES:
        assert found[f"^~ {prefix}"] == upstream_name(service)


def test_routes_of_services_not_given_are_left_out():
    conf = render_nginx(upstreams={"auth": "127.0.0.1:5101"}, http_port=8080)
    assert set(locations(conf).values()) == {"pillpal_auth"}
    assert "pillpal_meds" not in conf


def test_upstreams_keep_connections_alive():
    conf = render_nginx(upstreams=LOCAL, http_port=8080)
    assert conf.count("keepalive 64;") == len(LOCAL)
    assert "proxy_http_version 1.1;" in conf and 'proxy_set_header Connection "";' in conf


def test_runtime_dir_keeps_every_file_inside_it(tmp_path):
    conf = render_nginx(upstreams=LOCAL, http_port=8080, runtime_dir=str(tmp_path))
    assert "daemon off;" in conf
    paths = re.findall(r"^\s*(?:pid|error_log|access_log|\w+_temp_path) (\S+?)[ ;]", conf, re.M)
    assert len(paths) == 8
    assert all(p.startswith(str(tmp_path)) for p in paths)


def test_redirect_keeps_health_on_plain_http():
    conf = render_compose()
    plain = conf.split("listen 443 ssl;")[0]
    assert "return 308 https://$host$request_uri;" in plain
    assert locations(plain) == {"= /api/health": "pillpal_auth"}
    assert "limit_req zone=pillpal_login" in conf.split("listen 443 ssl;")[1]


def test_rate_limit_can_be_turned_off_for_benchmarks():
    conf = render_nginx(upstreams=LOCAL, http_port=8080, rate_limit=False)
    assert "limit_req" not in conf


def test_bad_combinations_are_refused():
    with pytest.raises(ValueError, match="cert_dir"):
        render_nginx(upstreams=LOCAL, http_port=80, https_port=443)
    with pytest.raises(ValueError, match="https_port"):
        render_nginx(upstreams=LOCAL, http_port=80, redirect_http=True)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_nginx_accepts_the_committed_production_config(tmp_path):
    """`nginx -t` on deploy/nginx/nginx.conf, with a self-signed certificate and the compose host names
    pointed at this machine (they only resolve inside compose)."""
    write_self_signed(tmp_path / "certs")
    conf = COMMITTED.read_text().replace("/etc/nginx/certs", str(tmp_path / "certs"))
    for service, address in COMPOSE_UPSTREAMS.items():
        conf = conf.replace(f"server {address};", f"server 127.0.0.1:{UPSTREAMS[service].port};")
    assert_nginx_accepts(conf, tmp_path)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_nginx_accepts_the_runtime_config_with_tls(tmp_path):
    write_self_signed(tmp_path / "certs")
    conf = render_nginx(
        upstreams=LOCAL, http_port=8080, https_port=8443, cert_dir=str(tmp_path / "certs"), runtime_dir=str(tmp_path)
    )
    assert_nginx_accepts(conf, tmp_path)
