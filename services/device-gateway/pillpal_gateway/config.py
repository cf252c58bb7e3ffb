from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pillpal_shared.config import CommonSettings, Env, common_settings

SERVICE = "device-gateway"


@dataclass(frozen=True)
class GatewaySettings:
    common: CommonSettings
    # The shipped firmware: anonymous boxes on the shared topics, the HTTP poll without credentials,
    # pairing by box id alone. Any box can then claim any id: off unless asked for.
    legacy_devices: bool
    # A dose that stayed "alerting" longer than this (its closing event lost) no longer rings.
    alert_max_age: timedelta
    ingest_batch_size: int


def load_settings(environ: dict[str, str] | None = None) -> GatewaySettings:
    env = Env(environ)
    return GatewaySettings(
        common=common_settings(SERVICE, env),
        legacy_devices=env.bool("PILLPAL_LEGACY_DEVICES", False),
        alert_max_age=timedelta(minutes=env.int("ALERT_MAX_AGE_MINUTES", 12 * 60, minimum=1)),
        ingest_batch_size=env.int("INGEST_BATCH_SIZE", 500, minimum=1, maximum=900),
    )
