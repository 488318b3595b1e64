"""Health, readiness and liveness; Prometheus metrics behind a token or an admin; request ids and
structured JSON log lines."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from haoban.ops.logs import JsonFormatter


def test_health_names_the_process_its_database_and_job_queue(client: Any) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["db"]["ok"] is True
    assert body["db"]["schema"] == body["db"]["head"] == body["schema"]
    assert body["process"]["pid"] == os.getpid() and body["process"]["resident_bytes"] > 10_000_000
    assert body["jobs"]["runner"] in {"inprocess", "procrastinate"}
    assert body["jobs"]["alive"] is False  # the test app runs no job runner


def test_live_and_ready(client: Any, rt: Any) -> None:
    assert client.get("/api/v1/health/live").json()["status"] == "ok"
    ready = client.get("/api/v1/health/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "pid": os.getpid(), "reasons": []}
    writer, rt.intake = rt.intake, None
    try:
        not_ready = client.get("/api/v1/health/ready")
    finally:
        rt.intake = writer
    assert not_ready.status_code == 503
    assert not_ready.json()["reasons"] == ["the intake writer is not running"]


def test_metrics_need_the_metrics_token_or_an_admin(client: Any, api: Any, rt: Any) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=api.headers("operator")).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    rt.settings.metrics_token = "scrape-secret-0123456789"
    try:
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
    finally:
        rt.settings.metrics_token = None
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    assert client.get("/metrics", headers=api.headers("admin")).status_code == 200


def test_metrics_count_requests_batches_jobs_and_overdue_orders(client: Any, api: Any, rt: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from haoban.db import utcnow
    from haoban.orders.models import Order
    from haoban.worker import tick

    code = api.create()["code"]
    with rt.db.write() as s:  # its time is up
        s.execute(
            update(Order)
            .where(Order.code == code)
            .values(
                handle_deadline=utcnow() - timedelta(hours=1), handle_warn_at=utcnow() - timedelta(hours=2)
            )
        )
    tick(rt)
    text = client.get("/metrics", headers=api.headers("admin")).text
    lines = [x for x in text.splitlines() if not x.startswith("#")]

    def value(prefix: str) -> float:
        return sum(float(x.rsplit(" ", 1)[1]) for x in lines if x.startswith(prefix))

    assert value('haoban_http_requests_total{method="POST",route="/api/v1/orders",status="201"}') >= 1
    assert value('haoban_http_request_seconds_count{method="POST",route="/api/v1/orders"}') >= 1
    assert value("haoban_intake_batch_size_count") >= 1
    assert value('haoban_orders_alerted{clock="handle",level="overdue"}') == 1
    assert value('haoban_sweep_alerts_total{level="overdue"}') >= 1
    assert value("haoban_jobs_") >= 0 and "haoban_database_up 1.0" in lines


def test_each_request_counts_once_and_a_series_is_looked_up_once(
    client: Any, api: Any, monkeypatch: Any
) -> None:
    """The request metrics keep their series (labels() takes a lock and joins its values on every
    call: once per series is enough), and every request is still counted and timed."""
    from haoban import metrics

    calls: list[tuple[str, ...]] = []
    for metric in (metrics.REQUESTS, metrics.REQUEST_SECONDS):
        real = metric.labels

        def counting(*values: str, _real: Any = real) -> Any:
            calls.append(values)
            return _real(*values)

        monkeypatch.setattr(metric, "labels", counting)
    route = "/api/v1/orders/{code}"

    def scraped() -> tuple[float, float]:
        text = client.get("/metrics", headers=api.headers("admin")).text
        found = {x.rsplit(" ", 1)[0]: float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x[:1] != "#"}
        return (
            found.get(f'haoban_http_requests_total{{method="GET",route="{route}",status="404"}}', 0.0),
            found.get(f'haoban_http_request_seconds_count{{method="GET",route="{route}"}}', 0.0),
        )

    before = scraped()
    for _ in range(3):
        assert client.get("/api/v1/orders/HB-NO-SUCH", headers=api.headers("admin")).status_code == 404
    assert scraped() == (before[0] + 3, before[1] + 3)
    assert len([c for c in calls if c[1] == route]) <= 2, calls  # one per metric, not one per request


def test_request_ids_are_echoed_and_logged_as_json(client: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="haoban.access"):
        r = client.get("/api/v1/workflow", headers={"X-Request-ID": "req-abc-123"})
        fresh = client.get("/api/v1/workflow")
    assert r.headers["x-request-id"] == "req-abc-123"
    assert len(fresh.headers["x-request-id"]) == 16
    record = next(
        rec for rec in caplog.records if rec.name == "haoban.access" and "workflow" in rec.getMessage()
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-abc-123" and line["route"] == "/api/v1/workflow"
    assert line["status"] == 200 and line["level"] == "info" and ":" in line["process"]
