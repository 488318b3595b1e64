"""Shared fixtures: a migrated, seeded database per test on SQLite (default) or PostgreSQL.

Set ``HAOBAN_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test`` to run the suite on
PostgreSQL. Each test gets its own database copied from a template (a file copy on SQLite,
``CREATE DATABASE … TEMPLATE`` on PostgreSQL), so tests never see each other's data. Under ``CI=true``
an unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from haoban.config import Settings
from haoban.db import Database
from haoban.runtime import Runtime
from haoban.wiring import runtime as wired_runtime

PG_URL = os.environ.get("HAOBAN_TEST_DATABASE_URL", "")
# One data key (ID numbers encrypted at rest) for every Settings the suite and its subprocesses build.
TEST_DATA_KEY = "test-data-key-for-the-haoban-suite-0123456789"
os.environ.setdefault("HAOBAN_DATA_KEY", TEST_DATA_KEY)
# Personal data the suite's orders carry: none of it may reach a log line (issue 10).
_PERSONAL = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


class _LogScan(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if _PERSONAL.search(line):
            self.leaks.append(line[:500])


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_logs() -> Iterator[None]:
    """Scan every log line the whole run writes (any logger, any level, tracebacks included); the run
    fails if one carries a phone or ID number."""
    scan = _LogScan()
    root = logging.getLogger()
    root.addHandler(scan)
    previous = root.level
    root.setLevel(min(previous, logging.INFO) or logging.INFO)
    yield
    root.removeHandler(scan)
    root.setLevel(previous)
    assert not scan.leaks, "personal data in log lines:\n" + "\n".join(scan.leaks[:10])


BACKEND = "postgresql" if PG_URL.startswith("postgresql") else "sqlite"


def pytest_report_header(config: pytest.Config) -> str:
    return f"haoban test database: {BACKEND}" + (
        f" ({make_url(PG_URL).render_as_string()})" if PG_URL else ""
    )


def _seed(rt: Runtime) -> None:
    from haoban.demo.seed import seed_accounts, seed_catalog, seed_directory, seed_rules

    rt.db.upgrade()
    seed_directory(rt)
    seed_rules(rt)
    seed_accounts(rt)
    seed_catalog(rt, full=False)  # the bundles' items and the licence items (~30), not the whole list


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-key-for-the-haoban-suite-0123456789",
        sweep_seconds=3600,
        outbox_seconds=3600,
    )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated and seeded template database; yields how to reach it."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        rt = wired_runtime(Database(url), _settings(url))
        _seed(rt)
        rt.db.dispose()
        yield str(path)
        return
    admin_url = make_url(PG_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"PostgreSQL test database unreachable at {PG_URL}: {exc}", returncode=3)
    name = f"haoban_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    rt = wired_runtime(Database(url), _settings(url))
    _seed(rt)
    rt.db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db_url(template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path / "haoban.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    admin_url = make_url(PG_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"haoban_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def rt(db_url: str) -> Iterator[Runtime]:
    runtime = wired_runtime(Database(db_url), _settings(db_url))
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def app(rt: Runtime) -> Any:
    from haoban.app import create_app

    return create_app(rt, run_worker=False, upgrade=False)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        with_csrf(c)
        yield c


def with_csrf(c: Any, seed: str = "test-csrf-seed") -> Any:
    """Let a test client post pages' forms as a page of this site would: the CSRF cookie, and its token
    as a header (tests/security/test_csrf_headers.py checks what happens without them)."""
    from haoban.security import csrf

    c.cookies.set(csrf.COOKIE, seed)
    c.headers[csrf.HEADER] = csrf.token_for(c.app.state.runtime.settings.secret_key, seed)
    clear = c.cookies.clear

    def clear_but_keep_the_csrf_cookie(*args: Any, **kwargs: Any) -> None:
        clear(*args, **kwargs)  # tests "log out" by clearing cookies; the browser's seed stays
        c.cookies.set(csrf.COOKIE, seed)

    c.cookies.clear = clear_but_keep_the_csrf_cookie
    return c


class Api:
    """A small helper around TestClient that logs in demo users and remembers their tokens."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = self.client.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, path: str, *, as_: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(as_), **kw)

    def post(self, path: str, *, as_: str, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(as_), **kw)

    def put(self, path: str, *, as_: str, **kw: Any) -> Any:
        return self.client.put(path, headers=self.headers(as_), **kw)

    def create(self, *, as_: str = "operator", **fields: Any) -> dict[str, Any]:
        body = {
            "type": "complaint",
            "content": "小区门口的路灯坏了三天，晚上很黑，请尽快修理。",
            "citizen_phone": "13812345678",
            "citizen_name": "张三",
        }
        body.update(fields)
        r = self.post("/api/v1/orders", as_=as_, json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def act(self, code: str, action: str, *, as_: str, expect: int = 200, **fields: Any) -> dict[str, Any]:
        r = self.post(f"/api/v1/orders/{code}/{action}", as_=as_, json=fields)
        assert r.status_code == expect, r.text
        return r.json()


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


# One Chromium per test process, shared by every browser test module. The fixture lives here, not in a
# test module: a session fixture imported into several modules is a separate fixture in each, and a
# second Playwright sync instance in the same thread fails ("Sync API inside the asyncio loop").
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    import playwright.sync_api as playwright_sync

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (never `playwright install`)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
