"""Configuration from the environment (and a `.env` file, when present).

Every reader here raises `ConfigError` naming the variable, so a bad value stops
startup with a message a person can act on. Nothing secret has a default.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

from dotenv import dotenv_values


class ConfigError(RuntimeError):
    """A configuration variable is missing or malformed."""


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    if environ is not None:
        return dict(environ)
    merged = {k: v for k, v in dotenv_values(os.environ.get("PILLPAL_ENV_FILE", ".env")).items() if v is not None}
    merged.update(os.environ)
    return merged


class Env:
    """Typed readers over one environment mapping."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.values = environment(environ)

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise ConfigError(f"{name} is required but not set")
            return default
        return value

    def int(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        raw = self.values.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    def float(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.values.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value

    def bool(self, name: str, default: bool) -> bool:
        raw = self.values.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false (1/0), got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default) or default
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    def secret(self, name: str) -> str:
        """A secret: from NAME, or from the file named by NAME_FILE. Never defaulted."""
        value = self.str(name)
        if value:
            return value.replace("\\n", "\n")
        path = self.str(f"{name}_FILE")
        if path:
            try:
                return Path(path).read_text()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE points at {path!r}, which cannot be read: {exc.strerror}") from None
        raise ConfigError(f"{name} (or {name}_FILE) is required but not set")


def database_url(env: Env, service: str) -> str:
    """DATABASE_URL, else a MySQL URL from DB_*, else the embedded SQLite file var/<service>.db."""
    url = env.str("DATABASE_URL")
    if url:
        scheme = url.split(":", 1)[0]
        if scheme not in {"sqlite", "mysql", "mysql+pymysql", "mariadb+pymysql"}:
            raise ConfigError(f"DATABASE_URL must be a sqlite:// or mysql+pymysql:// URL, got scheme {scheme!r}")
        if scheme == "mysql":
            url = "mysql+pymysql" + url[len("mysql") :]
        return url
    host = env.str("DB_HOST")
    if host:
        user = env.str("DB_USER", required=True)
        password = env.str("DB_PASSWORD", "") or ""
        name = env.str("DB_NAME", required=True)
        port = env.int("DB_PORT", 3306, minimum=1, maximum=65535)
        auth = quote_plus(user or "") + (":" + quote_plus(password) if password else "")
        return f"mysql+pymysql://{auth}@{host}:{port}/{name}?charset=utf8mb4"
    var_dir = Path(env.str("PILLPAL_VAR_DIR", "var") or "var")
    return f"sqlite:///{var_dir / (service.replace('-', '_') + '.db')}"


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    client_id: str
    share_group: str | None
    protocol: str  # "5" or "3.1.1"
    session_expiry: int

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(value: str, name: str = "MQTT_BROKER") -> tuple[str, int, bool]:
    parts = urlsplit(value if "://" in value else f"mqtt://{value}")
    if parts.scheme not in {"mqtt", "mqtts", "tcp", "ssl"}:
        raise ConfigError(f"{name} must look like mqtt://host:port or mqtts://host:port, got {value!r}")
    tls = parts.scheme in {"mqtts", "ssl"}
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {value!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{name} has no host: {value!r}")
    return parts.hostname, port, tls


def mqtt_settings(env: Env, service: str) -> MqttSettings:
    host, port, tls = parse_broker_url(env.str("MQTT_BROKER", "mqtt://127.0.0.1:1883") or "")
    replica = env.str("PILLPAL_REPLICA", socket.gethostname()) or "0"
    return MqttSettings(
        host=host,
        port=port,
        tls=tls,
        username=env.str("MQTT_USERNAME"),
        password=env.str("MQTT_PASSWORD"),
        client_id=env.str("MQTT_CLIENT_ID", f"pillpal-{service}-{replica}") or "",
        share_group=env.str("MQTT_SHARE_GROUP"),
        protocol=env.choice("MQTT_PROTOCOL", "5", ("5", "3.1.1")),
        session_expiry=env.int("MQTT_SESSION_EXPIRY", 7 * 24 * 3600, minimum=0),
    )


@dataclass(frozen=True)
class CommonSettings:
    """What every service reads: its name, database, broker, logging and token verification."""

    service: str
    database_url: str
    mqtt: MqttSettings
    log_format: str
    log_level: str
    jwt_public_key: str
    jwt_issuer: str
    jwt_audience: str


def common_settings(service: str, env: Env) -> CommonSettings:
    return CommonSettings(
        service=service,
        database_url=database_url(env, service),
        mqtt=mqtt_settings(env, service),
        log_format=env.choice("LOG_FORMAT", "auto", ("auto", "json", "console")),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        jwt_public_key=env.secret("JWT_PUBLIC_KEY"),
        jwt_issuer=env.str("JWT_ISSUER", "pillpal-auth") or "pillpal-auth",
        jwt_audience=env.str("JWT_AUDIENCE", "pillpal") or "pillpal",
    )
