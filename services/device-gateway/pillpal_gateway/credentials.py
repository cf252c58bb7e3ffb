"""A box's secrets: its MQTT password (hashed in Mosquitto's own format, so the broker's password file
and the HTTP poll check the same thing) and its pairing code (hashed, slow)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a sticker
MOSQUITTO_ITERATIONS = 101  # what mosquitto_passwd 2.0 writes ($7$: PBKDF2-HMAC-SHA512)
CODE_ITERATIONS = 200_000


def new_password() -> str:
    return secrets.token_urlsafe(24)


def new_pairing_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = MOSQUITTO_ITERATIONS) -> str:
    """The `$7$` hash of mosquitto_passwd: PBKDF2-HMAC-SHA512, 12-byte salt, base64."""
    salt = salt if salt is not None else os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${_b64(salt)}${_b64(digest)}"


def check_mosquitto_hash(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("$7$"):
        return False
    try:
        _, _, iterations, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def hash_code(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", normalise_code(code).encode(), salt, CODE_ITERATIONS)
    return f"pbkdf2_sha256${CODE_ITERATIONS}${_b64(salt)}${_b64(digest)}"


def check_code(code: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        actual = hashlib.pbkdf2_hmac("sha256", normalise_code(code).encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def write_passwd_entry(path: Path, username: str, hashed: str) -> None:
    """Adds or replaces `username` in a Mosquitto password file, atomically. The broker reads it again
    on SIGHUP (or restart)."""
    if ":" in username or "\n" in username:
        raise ValueError("a broker username cannot contain ':' or a newline")
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if line.split(":", 1)[0] != username]
    kept.append(f"{username}:{hashed}")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, prefix=".passwd.") as handle:
        handle.write("\n".join(kept) + "\n")
    os.chmod(handle.name, mode)
    os.replace(handle.name, path)
