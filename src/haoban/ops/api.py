"""``/api/v1/health`` (which process answered, its database and job queue), ``/api/v1/health/live``
(the process answers), ``/api/v1/health/ready`` (it can serve: database reachable, schema at head,
intake writer running), and ``/metrics`` for Prometheus (a metrics token or an admin's)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from haoban import __version__
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.deps import RuntimeDep, get_actor, oauth2_scheme
from haoban.metrics import multiprocess
from haoban.ops.health import LiveCollector, database_info, jobs_info, process_info
from haoban.responses import JSON

router = APIRouter(tags=["ops"])


class ProcessInfo(BaseModel):
    host: str
    pid: int
    started_at: datetime
    uptime_seconds: float
    resident_bytes: int = Field(description="resident memory of this process")


class DatabaseInfo(BaseModel):
    dialect: str
    ok: bool
    schema_: str | None = Field(default=None, alias="schema")
    head: str | None = None
    latency_ms: float | None = None
    error: str | None = None

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class JobsInfo(BaseModel):
    runner: str
    alive: bool
    due: int | None = None
    running_jobs: int | None = None
    oldest_due_seconds: float | None = None
    workers: int | None = None
    waiting: int | None = None
    running: str | None = None
    worker: str | None = None
    error: str | None = None


class FeedInfo(BaseModel):
    alive: bool
    last_event_id: int
    open_orders_indexed: int
    seconds_since_sync: float | None = None
    notifications: int


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the database does not answer")
    version: str
    database: str = Field(description="the database dialect")
    schema_: str | None = Field(alias="schema", description="the Alembic revision the database is at")
    process: ProcessInfo
    db: DatabaseInfo
    jobs: JobsInfo
    change_feed: FeedInfo | None = Field(default=None, description="the in-memory indexes' follower")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Probe(BaseModel):
    status: str
    pid: int
    reasons: list[str] = Field(default_factory=list)


@router.get(
    "/api/v1/health", response_model=Health, summary="Which process answered, its database and job queue"
)
def health(rt: RuntimeDep, request: Request) -> dict[str, Any]:
    db = database_info(rt)
    feed = request.app.state.feed
    return {
        "status": "ok" if db["ok"] else "degraded",
        "version": __version__,
        "database": db["dialect"],
        "schema": db.get("schema"),
        "process": process_info(),
        "db": db,
        "jobs": jobs_info(rt),
        "change_feed": feed.stats() if feed is not None else None,
    }


@router.get("/api/v1/health/live", response_model=Probe, summary="Liveness: the process answers")
async def live() -> dict[str, Any]:
    import os

    return {"status": "ok", "pid": os.getpid()}


@router.get(
    "/api/v1/health/ready",
    response_model=Probe,
    summary="Readiness: database reachable, schema at head, intake running (503 otherwise)",
    responses={503: {"model": Probe}},
)
def ready(rt: RuntimeDep) -> Any:
    import os

    db = database_info(rt)
    reasons = []
    if not db["ok"]:
        reasons.append(f"database: {db.get('error')}")
    elif db.get("schema") != db.get("head"):
        reasons.append(f"schema {db.get('schema')} is not at head {db.get('head')}: run haoban db upgrade")
    if rt.intake is None:
        reasons.append("the intake writer is not running")
    body = {"status": "ready" if not reasons else "not ready", "pid": os.getpid(), "reasons": reasons}
    return JSON(body, status_code=200 if not reasons else 503)


async def _metrics_reader(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    rt = request.app.state.runtime
    expected = rt.settings.metrics_token
    if token and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    actor = await get_actor(request, token)
    require_role(actor, Role.ADMIN)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics (Authorization: Bearer HAOBAN_METRICS_TOKEN, or an admin's token)",
    dependencies=[Depends(_metrics_reader)],
    include_in_schema=False,  # Prometheus' text format, not a JSON API answer
)
def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client import multiprocess as mp

    rt = request.app.state.runtime
    process_info()  # refresh this process's memory gauge
    if multiprocess():
        own = CollectorRegistry()
        mp.MultiProcessCollector(own)
    else:
        own = REGISTRY
    live = CollectorRegistry()
    live.register(LiveCollector(rt))
    return Response(generate_latest(own) + generate_latest(live), media_type=CONTENT_TYPE_LATEST)
