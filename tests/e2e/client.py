"""The app as the e2e tests drive it (pillpal_tools.app), with a fresh account per App, and a poller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pillpal_tools.app import Answer, AppClient, poll, request

__all__ = ["Answer", "App", "eventually", "request"]


class App(AppClient):
    def __init__(self, base: str) -> None:
        super().__init__(base, f"e2e-{uuid.uuid4().hex[:12]}@example.com", "correct horse battery")

    def register(self, full_name: str | None = "Ann Example", birthday: str | None = "04/12/1950") -> Answer:
        answer = super().register(full_name, birthday)
        assert answer.status == 201, answer
        return answer


def eventually(probe: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Polls `probe` until it returns something truthy; fails naming `what` otherwise."""
    got = poll(probe, timeout)
    assert got, f"{what}: not within {timeout:.0f} s (last: {got!r})"
    return got
