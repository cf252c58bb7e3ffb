"""HTTP entry points of auth: parse and validate, call one domain function, shape the answer."""

from __future__ import annotations

from flask import Blueprint, current_app, g

from pillpal_shared.errors import ApiError
from pillpal_shared.web import database, load_body, require_auth

from .schemas import LoginSchema, LogoutSchema, MeSchema, ProfilePatchSchema, RefreshSchema, RegisterSchema
from .service import Accounts

bp = Blueprint("auth", __name__)
_register, _login, _patch = RegisterSchema(), LoginSchema(), ProfilePatchSchema()
_refresh, _logout, _me = RefreshSchema(), LogoutSchema(), MeSchema()


def accounts() -> Accounts:
    return current_app.extensions["pillpal.accounts"]


# Register and login never look at the Authorization header: a stale token must not make them fail.
@bp.post("/api/auth/register")
def register():  # type: ignore[no-untyped-def]
    body = load_body(_register)
    with database().transaction() as session:
        pair = accounts().register(session, body["email"], body["password"], body["full_name"], body["birthday"])
    return pair.body(), 201


@bp.post("/api/auth/login")
def login():  # type: ignore[no-untyped-def]
    body = load_body(_login)
    with database().transaction() as session:
        pair = accounts().login(session, body["email"], body["password"])
    return pair.body()


@bp.post("/api/auth/refresh")
def refresh():  # type: ignore[no-untyped-def]
    body = load_body(_refresh)
    with database().transaction() as session:
        pair = accounts().refresh(session, body["refresh_token"])
    if pair is None:
        raise ApiError(401, "This refresh token was already used; every session of its family is now revoked")
    return pair.body()


@bp.post("/api/auth/logout")
@require_auth
def logout():  # type: ignore[no-untyped-def]
    body = load_body(_logout) if _has_body() else {"refresh_token": None}
    with database().transaction() as session:
        accounts().logout(session, g.user_id, body["refresh_token"])
    return {"status": "logged_out"}


@bp.get("/api/auth/me")
@require_auth
def me():  # type: ignore[no-untyped-def]
    with database().read() as connection:
        return _me.dump(accounts().profile(connection, g.user_id))


@bp.patch("/api/auth/me")
@require_auth
def patch_me():  # type: ignore[no-untyped-def]
    changes = load_body(_patch)
    with database().transaction() as session:
        accounts().update_profile(session, g.user_id, changes)
        return _me.dump(accounts().profile(session.connection(), g.user_id))


@bp.delete("/api/auth/delete")
@require_auth
def delete():  # type: ignore[no-untyped-def]
    with database().transaction() as session:
        accounts().delete(session, g.user_id)
    return {"status": "deleted"}


@bp.get("/api/health")
def health():  # type: ignore[no-untyped-def]
    ok = database().ping()
    return {"status": "ok" if ok else "unavailable", "db": ok}, 200 if ok else 503


def _has_body() -> bool:
    from flask import request

    return bool(request.get_data(cache=True))
