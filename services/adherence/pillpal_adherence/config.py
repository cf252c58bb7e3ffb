from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pillpal_shared.config import CommonSettings, Env, common_settings

SERVICE = "adherence"


@dataclass(frozen=True)
class AdherenceSettings:
    common: CommonSettings
    horizon_days: int  # doses are materialised this many local days ahead
    grace: timedelta  # a dose not acknowledged this long after its time is missed
    match_early: timedelta  # a box's ack counts for a dose from this long before its time
    on_time: timedelta  # a dose taken within this of its time counts as on time
    engine_batch: int
    engine_poll_seconds: float
    engine_lookahead: timedelta  # a reminder is prepared this long before it is due, and sent on time
    history_days: int  # call 12's range when the app sends no usable dates

    @property
    def match_late(self) -> timedelta:
        """A box's ack counts for a dose until it would be missed."""
        return self.grace


def load_settings(environ: dict[str, str] | None = None) -> AdherenceSettings:
    env = Env(environ)
    return AdherenceSettings(
        common=common_settings(SERVICE, env),
        horizon_days=env.int("ADHERENCE_HORIZON_DAYS", 14, minimum=1, maximum=90),
        grace=timedelta(minutes=env.int("DOSE_GRACE_MINUTES", 60, minimum=1, maximum=24 * 60)),
        match_early=timedelta(minutes=env.int("DOSE_MATCH_EARLY_MINUTES", 60, minimum=0, maximum=12 * 60)),
        on_time=timedelta(minutes=env.int("DOSE_ON_TIME_MINUTES", 30, minimum=0, maximum=12 * 60)),
        engine_batch=env.int("REMINDER_BATCH_SIZE", 1000, minimum=1, maximum=50_000),
        engine_poll_seconds=env.float("REMINDER_POLL_SECONDS", 1.0, minimum=0.01),
        engine_lookahead=timedelta(seconds=env.float("REMINDER_LOOKAHEAD_SECONDS", 10.0, minimum=0.0)),
        history_days=env.int("HISTORY_DEFAULT_DAYS", 30, minimum=1, maximum=366),
    )
