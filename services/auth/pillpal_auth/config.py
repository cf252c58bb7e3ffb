from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pillpal_shared.config import CommonSettings, Env, common_settings

SERVICE = "auth"


@dataclass(frozen=True)
class AuthSettings:
    common: CommonSettings
    jwt_private_key: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int


def load_settings(environ: dict[str, str] | None = None) -> AuthSettings:
    env = Env(environ)
    return AuthSettings(
        common=common_settings(SERVICE, env),
        jwt_private_key=env.secret("JWT_PRIVATE_KEY"),
        # The shipped app has no refresh logic: an access token lives 30 days by default.
        access_ttl=timedelta(seconds=env.int("ACCESS_TOKEN_TTL", 30 * 24 * 3600, minimum=60)),
        refresh_ttl=timedelta(seconds=env.int("REFRESH_TOKEN_TTL", 90 * 24 * 3600, minimum=3600)),
        # OWASP's minimum for argon2id is m=19 MiB, t=2, p=1; lower values are refused.
        argon2_time_cost=env.int("ARGON2_TIME_COST", 2, minimum=2, maximum=20),
        argon2_memory_kib=env.int("ARGON2_MEMORY_KIB", 19 * 1024, minimum=19 * 1024, maximum=1024 * 1024),
        argon2_parallelism=env.int("ARGON2_PARALLELISM", 1, minimum=1, maximum=16),
    )
