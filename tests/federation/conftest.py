"""Two instances on loopback, each with its own database and key pair: 衡阳 (430400, "a") and 来宾
(451300, "b"). Each is a uvicorn server on a thread that can be stopped and started again on the same
port (the partner "down for a while")."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.config import Settings
from haoban.db import Database
from haoban.federation import flows, messages, protocol, service
from haoban.runtime import Runtime
from haoban.wiring import runtime as wired_runtime
from tests.conftest import BACKEND, PG_URL

assert flows  # the message kinds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    """One city: its runtime, its server (start / stop on one port), its key."""

    def __init__(self, name: str, region: str, city: str, db_url: str, tmp: Path) -> None:
        self.name = name
        self.region = region
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key_file = tmp / f"{name}.key"
        self.key = messages.generate_key(key_file)
        self.public_key = messages.public_b64(self.key)
        settings = Settings(
            database_url=db_url,
            secret_key=f"test-secret-key-for-the-haoban-federation-{name}-0123456789",
            sweep_seconds=3600,
            outbox_seconds=3600,
            federation_seconds=3600,
            federation_region=region,
            federation_name=city,
            federation_key_file=key_file,
            federation_backoff_seconds=0.001,  # retries are due at once: the tests drive delivery
            federation_backoff_max_seconds=0.001,
            federation_timeout_seconds=60,  # a loaded CI machine: a first answer can take seconds
            data_dir=tmp / name,
        )
        self.rt: Runtime = wired_runtime(Database(db_url), settings)
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.tokens: dict[str, str] = {}

    def start(self) -> Instance:
        import uvicorn

        from haoban.app import create_app

        app = create_app(self.rt, run_worker=False, upgrade=False)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"instance {self.name} did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            assert self.thread is not None
            self.thread.join(timeout=10)
            self.server = None

    def deliver(self) -> dict[str, int]:
        return protocol.deliver(self.rt)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = httpx.post(
                f"{self.url}/api/v1/auth/token", data={"username": username, "password": "demo"}, timeout=30
            )
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def call(self, method: str, path: str, *, as_: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(as_)}"} if as_ else {}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)

    def partner_with(self, other: Instance, *, items: list[str], modes: list[str]) -> None:
        with self.rt.db.write() as session:
            service.save_partner(
                session,
                actor=SYSTEM_ACTOR,
                region=other.region,
                name=other.rt.settings.federation_name,
                endpoint=other.url,
                public_key=other.public_key,
                own_region=self.region,
            )
            service.add_agreement(
                session,
                actor=SYSTEM_ACTOR,
                partner=other.region,
                items=items,
                modes=modes,
                valid_from=date(2020, 1, 1),
            )


def _second_db(template: str, tmp_path: Path) -> Iterator[str]:
    """Another database copied from the suite's template (a file copy, or CREATE DATABASE … TEMPLATE)."""
    if BACKEND == "sqlite":
        path = tmp_path / "second.db"
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


ITEMS = ["hotline", "newborn", "hukou_birth", "note"]
MODES = ["online", "proxy", "joint", "transfer"]


@pytest.fixture
def cities(db_url: str, template: str, tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    """衡阳 (a) and 来宾 (b), each knowing the other with an agreement over ``ITEMS`` and ``MODES``."""
    second = _second_db(template, tmp_path)
    b_url = next(second)
    a = Instance("hengyang", "430400", "衡阳市", db_url, tmp_path)
    b = Instance("laibin", "451300", "来宾市", b_url, tmp_path)
    a.partner_with(b, items=ITEMS, modes=MODES)
    b.partner_with(a, items=ITEMS, modes=MODES)
    a.start()
    b.start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        a.rt.db.dispose()
        b.rt.db.dispose()
        next(second, None)


def wait_for(check: Callable[[], Any], *, what: str, tries: int = 1200) -> Any:
    """Poll ``check`` (no timed assertion: a bounded number of tries, each a short sleep; about a minute
    in all, as a CI machine at several times its core count needs)."""
    for _ in range(tries):
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never happened: {what}")
