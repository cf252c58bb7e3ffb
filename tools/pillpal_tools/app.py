"""The Android app's way of calling PillPal (CONTRACTS.md section 1), for the demo and end-to-end tests:
JSON over HTTP through the gateway, and once it has a token, `Authorization: Bearer <token>` on every
call, login and register included, as the shipped app does."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, or the text when the answer is not JSON
    headers: dict[str, str]


def request(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 15
) -> Answer:
    """One HTTP call; an HTTP error status is an Answer too (a refused connection raises OSError)."""
    sent = {"Content-Type": "application/json"} if body is not None else {}
    sent.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 - a URL we were given
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    text = raw.decode(errors="replace")
    is_json = got.get("Content-Type", "").startswith("application/json") and text
    return Answer(status, json.loads(text) if is_json else text, got)


class AppClient:
    """One user's app."""

    def __init__(self, base: str, email: str, password: str) -> None:
        self.base = base
        self.email = email
        self.password = password
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return request(self.base, method, path, body, {**sent, **(headers or {})})

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def post(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)

    def register(self, full_name: str | None = None, birthday: str | None = None) -> Answer:
        """Call 1 (birthday as dd/MM/yyyy); keeps the token when it answers 201."""
        body = {"email": self.email, "password": self.password, "full_name": full_name, "birthday": birthday}
        answer = self.post("/api/auth/register", body)
        if answer.status == 201:
            self.token = answer.body["token"]
        return answer


def poll(probe: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Calls `probe` until it answers something truthy or `timeout` seconds pass; returns its last answer
    (what the app sees after the bus has carried a change: the system is eventually consistent)."""
    deadline = time.monotonic() + timeout
    while not (got := probe()) and time.monotonic() < deadline:
        time.sleep(every)
    return got
