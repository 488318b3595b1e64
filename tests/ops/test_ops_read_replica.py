"""HAOBAN_READ_REPLICA_URL sends read-only dashboard, analytics and export queries to a replica; the
work itself (creating, acting, listing) stays on the primary. The "replica" here is a copy of the
database taken before the order was filed, so it lags visibly, as a streaming replica may."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from haoban.app import create_app
from haoban.db import Database
from haoban.wiring import runtime as wired_runtime
from tests.conftest import BACKEND, PG_URL, Api, _settings


@pytest.fixture
def replica_url(template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path / "replica.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"haoban_replica_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_dashboards_and_exports_read_from_the_replica(db_url: str, replica_url: str) -> None:
    settings = _settings(db_url)
    settings.read_replica_url = replica_url
    rt = wired_runtime(Database(db_url, replica_url=replica_url), settings)
    try:
        with TestClient(create_app(rt, upgrade=False)) as client:
            api = Api(client)
            code = api.create()["code"]  # on the primary
            assert api.get(f"/api/v1/orders/{code}", as_="supervisor").status_code == 200
            kpis = api.get("/api/v1/analytics/kpis", as_="admin").json()
            assert sum(kpis["counts"].values()) == 0  # the replica has not seen it (yet)
            csv = api.get("/api/v1/analytics/kpis.csv", as_="admin").text
            assert code not in csv
        with rt.db.read_only() as s:
            assert s.execute(text("SELECT count(*) FROM orders")).scalar() == 0
        with rt.db.read() as s:
            assert s.execute(text("SELECT count(*) FROM orders")).scalar() == 1
    finally:
        rt.db.dispose()


def test_without_a_replica_read_only_queries_go_to_the_primary(rt: Any, api: Api) -> None:
    api.create()
    assert rt.db.replica is None
    with rt.db.read_only() as s:
        assert s.execute(text("SELECT count(*) FROM orders")).scalar() == 1
    kpis = api.get("/api/v1/analytics/kpis", as_="admin").json()
    assert sum(kpis["counts"].values()) >= 1
