from __future__ import annotations

from dataclasses import dataclass

from pillpal_shared.config import CommonSettings, Env, common_settings

SERVICE = "meds"


@dataclass(frozen=True)
class MedsSettings:
    common: CommonSettings
    db_pool_size: int
    default_lead_minutes: int


def load_settings(environ: dict[str, str] | None = None) -> MedsSettings:
    env = Env(environ)
    return MedsSettings(
        common=common_settings(SERVICE, env),
        # One pooled engine per process; a sync gunicorn worker needs one connection at a time.
        db_pool_size=env.int("MEDS_DB_POOL_SIZE", 5, minimum=1, maximum=100),
        default_lead_minutes=env.int("MEDS_DEFAULT_LEAD_MINUTES", 5, minimum=0, maximum=120),
    )
