"""The one route table of the API gateway. The dev gateway (`make run`) and the nginx config are both
generated from it, so they cannot drift. The first matching prefix wins: longer prefixes come first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Upstream:
    service: str
    port: int  # the service's HTTP port on one machine (make run); compose uses the service name


UPSTREAMS = {
    "auth": Upstream("auth", 5101),
    "meds": Upstream("meds", 5102),
    "device-gateway": Upstream("device-gateway", 5103),
    "adherence": Upstream("adherence", 5104),
}

# (path prefix, service). Exact-prefix semantics: "/api/medications/history" must come before
# "/api/medications" so that history reaches adherence.
ROUTES: list[tuple[str, str]] = [
    ("/api/health", "auth"),
    ("/api/auth/", "auth"),
    ("/api/medications/history", "adherence"),
    ("/api/medications", "meds"),
    ("/api/devices", "device-gateway"),
    ("/api/device/", "device-gateway"),
    ("/api/settings", "device-gateway"),
    ("/api/calendar/", "adherence"),
    ("/api/dose/", "adherence"),
    ("/api/adherence/", "adherence"),
]


def routes_for(services: set[str]) -> list[tuple[str, Upstream]]:
    """The routes whose service is running."""
    return [(prefix, UPSTREAMS[s]) for prefix, s in ROUTES if s in services]


def resolve(path: str) -> str | None:
    for prefix, service in ROUTES:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return service
    return None
