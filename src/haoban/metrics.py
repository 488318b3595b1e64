"""Prometheus metrics (prometheus-client) that any module may update; ``haoban.ops`` serves them.

With several server processes on one machine (``haoban serve --workers N``) the processes write their
samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (set by ``serve``) and a scrape of any of them adds
them up; a single process keeps them in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "haoban_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "haoban_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
INTAKE_BATCH = Histogram(
    "haoban_intake_batch_size",
    "Orders committed together by the intake writer (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
JOB_RUNS = Counter("haoban_job_runs", "Job runs by job and outcome (ok / failed)", ["job", "outcome"])
JOB_SECONDS = Histogram(
    "haoban_job_seconds",
    "Job run time (the deadline sweep is job orders.sweep)",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
SWEEP_ALERTS = Counter("haoban_sweep_alerts", "Deadline alerts raised by the sweep", ["level"])
RESIDENT_BYTES = Gauge(
    "haoban_process_resident_bytes",
    "Resident memory of each server process",
    ["pid"],
    multiprocess_mode="liveall",
)


def observe_job(name: str, seconds: float, ok: bool) -> None:
    JOB_RUNS.labels(name, "ok" if ok else "failed").inc()
    JOB_SECONDS.labels(name).observe(seconds)


def resident_bytes() -> int:
    """This process's resident set size (Linux /proc; 0 where unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
