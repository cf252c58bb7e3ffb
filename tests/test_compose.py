"""docker-compose.yml: valid for `docker compose config` (or docker-compose), secrets only from .env, and
the topology the deployment promises."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"
SERVICES = ("auth", "meds", "device-gateway", "adherence")


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


COMMAND = compose_command()
needs_compose = pytest.mark.skipif(COMMAND is None, reason="neither `docker compose` nor docker-compose is installed")


def filled_example(tmp_path: Path, drop: str | None = None) -> Path:
    """.env.example with every empty value filled in (and key files that exist), minus `drop`."""
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        name, sep, value = line.partition("=")
        if line.startswith("#") or not sep or name == drop:
            continue
        if name.endswith("_KEY_FILE"):
            value = str(tmp_path / Path(value).name)
            Path(value).write_text("-----BEGIN TEST KEY-----\n")
        lines.append(f"{name}={value or 'test-' + name.lower()}")
    env_file = tmp_path / "env"
    env_file.write_text("\n".join(lines) + "\n")
    return env_file


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    assert COMMAND is not None
    argv = [*COMMAND, "--env-file", str(env_file), "-f", str(COMPOSE), "--project-directory", str(ROOT)]
    argv += ["--profile", "tools", "config"]  # the operators' tools too
    return subprocess.run(argv, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    yaml = pytest.importorskip("yaml")
    result = compose_config(filled_example(tmp_path_factory.mktemp("compose")))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@needs_compose
def test_compose_file_is_valid_with_the_example_env(rendered):
    expected = {"mysql", "mosquitto", "migrate", "certs", "nginx", *SERVICES}
    expected |= {f"{s}-worker" for s in SERVICES if s != "adherence"} | {"adherence-worker-1", "adherence-worker-2"}
    assert set(rendered["services"]) == expected | {"pillpal-device"}


@needs_compose
def test_pillpal_device_writes_the_brokers_password_file_as_the_brokers_user(rendered):
    tool = rendered["services"]["pillpal-device"]
    assert tool["profiles"] == ["tools"] and tool["entrypoint"] == ["pillpal-device"]
    assert tool["user"] == "1883:1883"  # the eclipse-mosquitto image's mosquitto user
    assert tool["environment"]["PILLPAL_MQTT_PASSWD_FILE"] == "/mosquitto/config/passwd"
    broker_config = next(v for v in rendered["services"]["mosquitto"]["volumes"] if "/mosquitto/config" in str(v))
    assert broker_config in tool["volumes"]


@needs_compose
@pytest.mark.parametrize("variable", ["DB_PASSWORD", "MQTT_PASSWORD_ADHERENCE", "JWT_PRIVATE_KEY_FILE"])
def test_a_missing_secret_stops_compose_naming_it(tmp_path, variable):
    result = compose_config(filled_example(tmp_path, drop=variable))
    assert result.returncode != 0
    assert variable in result.stderr


@needs_compose
def test_services_start_after_the_migration_and_nginx_after_them(rendered):
    services = rendered["services"]
    assert services["migrate"]["depends_on"]["mysql"]["condition"] == "service_healthy"
    for name in SERVICES:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services["nginx"]["depends_on"][name]["condition"] == "service_healthy"
        assert services[name]["command"] == ["web", name]
    assert "healthcheck" in services["mysql"]


@needs_compose
def test_adherence_workers_share_one_subscription_with_their_own_sessions(rendered):
    workers = [rendered["services"][f"adherence-worker-{n}"]["environment"] for n in (1, 2)]
    assert {w["MQTT_SHARE_GROUP"] for w in workers} == {"adherence"}
    assert len({w["PILLPAL_REPLICA"] for w in workers}) == 2


@needs_compose
def test_only_auth_holds_the_private_key(rendered):
    for name, service in rendered["services"].items():
        sources = {s["source"] if isinstance(s, dict) else s for s in service.get("secrets", [])}
        assert ("jwt_private_key" in sources) == (name in {"auth", "auth-worker"}), name


@needs_compose
def test_nginx_runs_the_generated_config_and_mosquitto_the_projects(rendered):
    nginx_mounts = " ".join(str(v) for v in rendered["services"]["nginx"]["volumes"])
    assert str(ROOT / "deploy" / "nginx" / "nginx.conf") in nginx_mounts
    broker_mounts = " ".join(str(v) for v in rendered["services"]["mosquitto"]["volumes"])
    assert str(ROOT / "mosquitto") in broker_mounts


def test_no_secret_has_a_default_and_every_required_name_is_in_the_example():
    text = COMPOSE.read_text()
    example = EXAMPLE.read_text()
    for name, operator in re.findall(r"\$\{(\w+)(:[?-])?", text):
        if re.search(r"PASSWORD|KEY|SECRET", name):
            assert operator == ":?", f"{name} must be required (${{{name}:?...}}), never defaulted"
        if operator == ":?":
            assert re.search(rf"^{name}=", example, re.M), f"{name} is required by compose but not in .env.example"


def test_the_example_env_uses_the_seeds_names():
    example = EXAMPLE.read_text()
    for name in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "MQTT_BROKER", "PILLPAL_LEGACY_DEVICES"):
        assert re.search(rf"^#? ?{name}=", example, re.M), name
