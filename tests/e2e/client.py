"""The Android app as the e2e tests drive it: JSON over HTTP through the gateway, and once it has a token,
`Authorization: Bearer <token>` on every call (login and register included), as the shipped app does."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def request(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=15) as response:  # noqa: S310 - loopback
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    text = raw.decode()
    return Answer(
        status, json.loads(text) if text and got.get("Content-Type", "").startswith("application/json") else text, got
    )


class App:
    """One user's app: register, then every call with the token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None
        self.email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        self.password = "correct horse battery"

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return request(self.base, method, path, body, headers)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def post(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)

    def register(self, full_name: str = "Ann Example", birthday: str = "04/12/1950") -> Answer:
        body = {"email": self.email, "password": self.password, "full_name": full_name, "birthday": birthday}
        answer = self.post("/api/auth/register", body)
        assert answer.status == 201, answer
        self.token = answer.body["token"]
        return answer


def eventually(probe: Callable[[], Any], what: str, timeout: float = 20.0, every: float = 0.2) -> Any:
    """Polls `probe` until it returns something truthy; fails naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {got!r})")
        time.sleep(every)
