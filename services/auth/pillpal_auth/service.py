"""Auth's domain: accounts, passwords, token pairs and profile changes. Routes call these."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pillpal_shared.db import utcnow
from pillpal_shared.envelope import new_event
from pillpal_shared.errors import ApiError
from pillpal_shared.tokens import TokenSigner

from .models import OUTBOX, RefreshToken, User, UserProfile

SOURCE = "auth"
PROFILE = select(User.user_id, User.email, User.full_name, User.birthday, UserProfile.timezone).join(
    UserProfile, UserProfile.user_id == User.user_id
)


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    user_id: int

    def body(self) -> dict[str, Any]:
        return {"token": self.access, "refresh_token": self.refresh, "user_id": self.user_id}


class Accounts:
    def __init__(self, signer: TokenSigner, hasher: PasswordHasher, refresh_ttl: timedelta) -> None:
        self.signer = signer
        self.hasher = hasher
        self.refresh_ttl = refresh_ttl
        # Verifying against this when the email is unknown keeps both answers equally slow.
        self._dummy_hash = hasher.hash(secrets.token_hex(16))

    # --- accounts ---------------------------------------------------------------------------

    def register(
        self, session: Session, email: str, password: str, full_name: str | None, birthday: date | None
    ) -> TokenPair:
        normalized = email.strip().lower()
        if session.scalar(select(User.user_id).where(User.email_normalized == normalized)) is not None:
            raise ApiError(409, "An account with this email already exists", {"email": ["Already registered."]})
        user = User(
            email=email.strip(),
            email_normalized=normalized,
            password_hash=self.hasher.hash(password),
            full_name=full_name.strip() if full_name else None,
            birthday=birthday,
            created_at=utcnow(),
            profile=UserProfile(timezone="UTC"),
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            raise ApiError(
                409, "An account with this email already exists", {"email": ["Already registered."]}
            ) from None
        OUTBOX.add(session, self._updated_event(user))
        return self._issue(session, user.user_id, uuid.uuid4().hex)

    def login(self, session: Session, email: str, password: str) -> TokenPair:
        user = session.scalar(select(User).where(User.email_normalized == email.strip().lower()))
        try:
            self.hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None:
            raise ApiError(401, "Wrong email or password")
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        return self._issue(session, user.user_id, uuid.uuid4().hex)

    def get(self, session: Session, user_id: int) -> User:
        user = session.get(User, user_id)
        if user is None:
            raise ApiError(401, "This account no longer exists; sign in again")
        return user

    def profile(self, connection: Connection, user_id: int) -> dict[str, Any]:
        """The profile as /api/auth/me shows it, in one Core query (the hot read path)."""
        row = connection.execute(PROFILE.where(User.user_id == user_id)).mappings().first()
        if row is None:
            raise ApiError(401, "This account no longer exists; sign in again")
        return dict(row)

    def update_profile(self, session: Session, user_id: int, changes: dict[str, Any]) -> User:
        user = self.get(session, user_id)
        if "full_name" in changes:
            user.full_name = changes["full_name"].strip() if changes["full_name"] else None
        if "timezone" in changes:
            user.profile.timezone = changes["timezone"]
        OUTBOX.add(session, self._updated_event(user))
        session.flush()
        return user

    def delete(self, session: Session, user_id: int) -> None:
        user = self.get(session, user_id)
        session.delete(user)
        OUTBOX.add(session, new_event("user.deleted", {"user_id": user_id}, {}, source=SOURCE))

    # --- refresh tokens ---------------------------------------------------------------------

    def refresh(self, session: Session, presented: str) -> TokenPair | None:
        """Rotates a refresh token. Presenting one already used revokes its whole family and returns
        None: the caller commits the revocation, then refuses."""
        token = session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _digest(presented)).with_for_update()
        )
        now = utcnow()
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise ApiError(401, "This refresh token is not valid; sign in again")
        if token.used_at is not None:
            self._revoke_family(session, token.family_id, now)
            return None
        token.used_at = now
        return self._issue(session, token.user_id, token.family_id)

    def logout(self, session: Session, user_id: int, presented: str | None) -> None:
        now = utcnow()
        if presented:
            token = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(presented)))
            if token is not None and token.user_id == user_id:
                self._revoke_family(session, token.family_id, now)
            return
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def _revoke_family(self, session: Session, family_id: str, now: datetime) -> None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def _issue(self, session: Session, user_id: int, family_id: str) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            RefreshToken(
                token_hash=_digest(refresh),
                user_id=user_id,
                family_id=family_id,
                issued_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        return TokenPair(self.signer.issue(user_id, now), refresh, user_id)

    @staticmethod
    def _updated_event(user: User):  # type: ignore[no-untyped-def]
        return new_event(
            "user.updated",
            {"user_id": user.user_id},
            {"email": user.email, "full_name": user.full_name, "timezone": user.profile.timezone},
            source=SOURCE,
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
