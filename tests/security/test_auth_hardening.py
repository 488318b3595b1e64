"""Issue 10, authentication: lockout and back-off in the database (API and /login together, across
restarts and processes), the password policy, token revocation, ``exp`` required, a persisted secret,
the login audit and the TOTP second factor."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pyotp
import pytest
from fastapi.testclient import TestClient

from haoban.app import create_app
from haoban.auth import throttle
from haoban.auth.passwords import password_problem
from haoban.auth.service import ALGORITHM
from haoban.config import Settings
from haoban.db import Database
from haoban.wiring import runtime as wired_runtime
from tests.conftest import Api, _settings

TOKEN = "/api/v1/auth/token"


def _login(client: Any, username: str, password: str, **extra: str) -> Any:
    return client.post(TOKEN, data={"username": username, "password": password, **extra})


def test_fifty_wrong_passwords_lock_the_account_then_the_right_one_waits(client: Any) -> None:
    codes = [_login(client, "admin", f"wrong-{i}").status_code for i in range(50)]
    assert codes[: throttle.ACCOUNT_LIMIT] == [401] * throttle.ACCOUNT_LIMIT
    assert set(codes[throttle.ACCOUNT_LIMIT :]) == {429}
    r = _login(client, "admin", "demo")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # The login page counts against the same lock.
    page = client.post("/login", data={"username": "admin", "password": "demo"}, follow_redirects=False)
    assert page.status_code == 429
    # Another account from another address is not affected.
    assert _login(client, "operator", "demo").status_code == 200


def test_lock_survives_a_restart_and_is_shared_by_processes(rt: Any, db_url: str, client: Any) -> None:
    for i in range(throttle.ACCOUNT_LIMIT):
        assert _login(client, "supervisor", f"nope{i}").status_code == 401
    # A second server process (its own runtime, engine and caches) on the same database.
    other = wired_runtime(Database(db_url), _settings(db_url))
    with TestClient(create_app(other, run_worker=False, upgrade=False)) as second:
        assert _login(second, "supervisor", "demo").status_code == 429
    other.db.dispose()


def test_the_lock_backs_off_and_an_address_is_throttled_too(rt: Any) -> None:
    now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with rt.db.write() as session:
        locks = []
        for _ in range(throttle.ACCOUNT_LIMIT + 3):
            row = throttle.record_failure(session, key="user:x", limit=throttle.ACCOUNT_LIMIT, now=now)
            if row.locked_until is not None:
                locks.append(row.locked_until - now)
            now += timedelta(seconds=1)
        assert locks == [throttle.BASE_LOCK * 2**k for k in range(4)]
        for _ in range(throttle.ADDRESS_LIMIT):
            throttle.record_failure(session, key="addr:10.0.0.9", limit=throttle.ADDRESS_LIMIT, now=now)
        assert throttle.locked_until(session, keys=["user:fresh", "addr:10.0.0.9"], now=now) is not None
        # Old failures are forgotten.
        later = now + throttle.FORGET_AFTER + timedelta(hours=1)
        row = throttle.record_failure(session, key="user:y", limit=5, now=now)
        row = throttle.record_failure(session, key="user:y", limit=5, now=later)
        assert row.failures == 1


@pytest.mark.parametrize(
    ("password", "role", "why"),
    [
        ("1234", "admin", "at least 14"),
        ("abcd", "handler", "at least 10"),
        ("admin-admin-admin", "admin", "username"),
        ("password123", "operator", "common"),
        ("woaini1314", "handler", "common"),
        ("1234567890", "handler", "common"),
        ("aaaaaaaaaaaa", "handler", "repeats"),
        ("abcdefghijklmn", "handler", "sequence"),
        ("lamppost-river-mill", "admin", "three of"),
    ],
)
def test_password_policy(password: str, role: str, why: str) -> None:
    problem = password_problem(password, username="admin", role=role)
    assert problem is not None and why in problem


def test_weak_passwords_are_refused_on_every_path(api: Api, client: Any) -> None:
    for body in (
        {"username": "boss2", "password": "1234", "role": "admin"},
        {"username": "boss2", "password": "boss2boss2boss2", "role": "admin"},
        {"username": "boss2", "password": "lamp-post-77", "role": "admin"},  # too short for an admin
    ):
        r = api.post("/api/v1/admin/users", as_="admin", json=body)
        assert r.status_code == 422 and "password" in r.json()["fields"], r.text
    ok = {"username": "boss2", "password": "Lamp-Post-7781-river", "role": "admin"}
    assert api.post("/api/v1/admin/users", as_="admin", json=ok).status_code == 201
    r = api.client.patch(
        "/api/v1/admin/users/operator", json={"password": "1234"}, headers=api.headers("admin")
    )
    assert r.status_code == 422
    client.cookies.set("haoban_token", api.token("admin"))
    page = client.post(
        "/admin/users",
        data={
            "op": "create",
            "username": "h_weak",
            "password": "1234",
            "role": "handler",
            "department_code": "cgj",
        },
    )
    assert page.status_code == 422 and 'id="err-password"' in page.text


def test_tokens_are_revoked_on_logout_password_role_and_disable(api: Api, client: Any, rt: Any) -> None:
    admin = api.headers("admin")
    # Logout.
    old = api.headers("operator")
    assert client.post("/api/v1/auth/logout", headers=old).status_code == 204
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    assert _login(client, "operator", "demo").status_code == 200  # a new login works
    # Password reset.
    tok = _login(client, "dispatcher", "demo").json()["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    r = client.patch("/api/v1/admin/users/dispatcher", json={"password": "river-lamp-9931"}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    # Role change.
    tok = _login(client, "auditor", "demo").json()["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    assert (
        client.patch("/api/v1/admin/users/auditor", json={"role": "operator"}, headers=admin).status_code
        == 200
    )
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    # Disabled.
    tok = _login(client, "h_cgj", "demo").json()["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    assert client.patch("/api/v1/admin/users/h_cgj", json={"active": False}, headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_page_logout_revokes_the_cookie(client: Any) -> None:
    r = client.post("/login", data={"username": "supervisor", "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303
    cookie = client.cookies.get("haoban_token")
    assert client.post("/logout", follow_redirects=False).status_code == 303
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {cookie}"})
    assert r.status_code == 401


def test_a_signed_token_without_exp_is_401_not_500(client: Any, rt: Any) -> None:
    token = jwt.encode({"sub": "1", "iat": datetime.now(UTC)}, rt.settings.secret_key, algorithm=ALGORITHM)
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    token = jwt.encode({"sub": "x", "exp": 2**70, "iat": 0}, rt.settings.secret_key, algorithm=ALGORITHM)
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_secret_is_generated_once_and_kept(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("HAOBAN_SECRET_KEY", raising=False)
    first = Settings(data_dir=tmp_path, database_url="sqlite://")
    second = Settings(data_dir=tmp_path, database_url="sqlite://")
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / ".secret_key").st_mode)
    assert mode == 0o600
    assert Settings(data_dir=tmp_path, secret_key="given-" + "x" * 40).secret_key.startswith("given-")


def test_login_audit_is_visible_to_admins(api: Api, client: Any) -> None:
    _login(client, "operator", "wrong-one")
    _login(client, "nobody-here", "wrong-two")
    _login(client, "operator", "demo")
    r = api.get("/api/v1/admin/login-events", as_="admin", params={"username": "operator"})
    assert r.status_code == 200
    rows = r.json()
    assert [(e["success"], e["outcome"]) for e in rows[:2]] == [(True, "ok"), (False, "wrong_password")]
    assert rows[0]["address"] and rows[0]["via"] == "api" and rows[0]["at"]
    failed = api.get("/api/v1/admin/login-events", as_="auditor", params={"success": "false"}).json()
    assert {"operator", "nobody-here"} <= {e["username"] for e in failed}
    assert api.get("/api/v1/admin/login-events", as_="h_cgj").status_code == 403


def test_totp_second_factor_for_an_admin(api: Api, client: Any) -> None:
    setup = api.post("/api/v1/auth/totp/setup", as_="supervisor")
    assert setup.status_code == 200
    secret = setup.json()["secret"]
    assert api.post("/api/v1/auth/totp/setup", as_="h_cgj").status_code == 403
    bad = api.post("/api/v1/auth/totp/enable", as_="supervisor", json={"secret": secret, "code": "000000"})
    assert bad.status_code == 422
    code = pyotp.TOTP(secret).now()
    assert (
        api.post(
            "/api/v1/auth/totp/enable", as_="supervisor", json={"secret": secret, "code": code}
        ).status_code
        == 204
    )
    r = _login(client, "supervisor", "demo")
    assert r.status_code == 401 and r.json()["second_factor"] == "totp"
    assert _login(client, "supervisor", "demo", otp=pyotp.TOTP(secret).now()).status_code == 200
    page = client.post("/login", data={"username": "supervisor", "password": "demo"}, follow_redirects=False)
    assert page.status_code == 401 and 'name="otp"' in page.text
    page = client.post(
        "/login",
        data={"username": "supervisor", "password": "demo", "otp": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert page.status_code == 303
