"""Micro-benchmark of the bundle engine alone (no database): ``python bench/bundles_engine.py [--write]``.

Drives N newborn applications (default 2,000) from submission to delivery: start, then each ready
task approved in turn. Every step after the start loads the stored state, acts, and stores it again,
as the database-backed service will. Reported per transition (p50/p99/max): the engine's own time
(``Transition.engine_seconds``), load and dump, and the whole step; plus the stored state's size.
Target in issue 11: ≤ 5 ms engine time per transition at p99.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchutil import machine, write_section

from haoban.bundles.definitions import shipped_example
from haoban.bundles.engine import BundleEngine, calendar_hooks
from haoban.bundles.loader import load_shipped


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _row(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"| {name} | {len(ms):,} | {_pct(ms, 0.5):.2f} | {_pct(ms, 0.99):.2f} | {max(ms):.2f} | "
        f"{statistics.fmean(ms):.2f} |"
    )


def run(instances: int) -> str:
    definition = load_shipped()["newborn"]
    registry = {definition.key: definition}
    example = shipped_example("newborn")
    start_at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    engine = BundleEngine(hooks=calendar_hooks(now=lambda: start_at))
    engine.start(definition, form=example["form"], materials=example["materials"], now=start_at)  # warm up

    engine_s: list[float] = []
    cpu_s: list[float] = []
    load_s: list[float] = []
    dump_s: list[float] = []
    step_s: list[float] = []
    sizes: list[int] = []
    load_before = os.getloadavg()
    wall = time.perf_counter()
    for n in range(instances):
        now = start_at + timedelta(seconds=n)
        t0, c0 = time.perf_counter(), time.thread_time()
        instance, tr = engine.start(definition, form=example["form"], materials=example["materials"], now=now)
        t1 = time.perf_counter()
        cpu_s.append(time.thread_time() - c0)
        state = engine.dumps(instance)
        t2 = time.perf_counter()
        engine_s.append(tr.engine_seconds)
        dump_s.append(t2 - t1)
        step_s.append(t2 - t0)
        while True:
            t0 = time.perf_counter()
            instance = engine.loads(state, definitions=registry)
            t1 = time.perf_counter()
            ready = engine.ready_tasks(instance)
            if not ready:
                break
            task = ready[0]
            now += timedelta(minutes=7)
            result = example["results"][task.task_id]
            c0 = time.thread_time()
            tr = engine.approve(instance, task_id=task.task_id, result=result, now=now)
            cpu_s.append(time.thread_time() - c0)
            t2 = time.perf_counter()
            state = engine.dumps(instance)
            t3 = time.perf_counter()
            engine_s.append(tr.engine_seconds)
            load_s.append(t1 - t0)
            dump_s.append(t3 - t2)
            step_s.append(t3 - t0)
            sizes.append(len(state))
        assert instance.status == "completed", instance.status
    wall = time.perf_counter() - wall
    load_after = os.getloadavg()

    transitions = len(engine_s)
    lines = [
        "## Bundle engine, newborn bundle (`bench/bundles_engine.py`)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python bench/bundles_engine.py --instances {instances} "
        f"--write`. Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Load average (1/5/15 min) before "
        f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} (other helpers share the 2 cores).",
        "",
        f"{instances:,} applications × 7 transitions (submission, then six approvals in dependency order) = "
        f"{transitions:,} transitions in {wall:.1f} s ({transitions / wall:,.0f} transitions/s, "
        f"{instances / wall:,.1f} applications/s on one core). Every approval loads the stored state first "
        "and stores it after, as the database-backed service will.",
        "",
        "| per transition | n | p50 ms | p99 ms | max ms | mean ms |",
        "|---|---:|---:|---:|---:|---:|",
        _row("engine (`Transition.engine_seconds`)", engine_s),
        _row("engine, CPU time of the call (`time.thread_time`)", cpu_s),
        _row("load state (`BundleEngine.loads`)", load_s),
        _row("store state (`BundleEngine.dumps`)", dump_s),
        _row("whole step (load + engine + store)", step_s),
        "",
        f"Stored state: {statistics.fmean(sizes) / 1024:.1f} KiB mean, {max(sizes) / 1024:.1f} KiB max "
        "(JSON: SpiffWorkflow's task tree and data plus haoban's bookkeeping; the process definition is not "
        "in it, it is pinned by bundle code, version and digest).",
        "",
        f"Target (issue 11): engine time per transition ≤ 5 ms at p99. Wall clock: "
        f"{_pct(engine_s, 0.99) * 1000:.2f} ms ({'met' if _pct(engine_s, 0.99) <= 0.005 else 'not met'}); "
        f"CPU time of the call: {_pct(cpu_s, 0.99) * 1000:.2f} ms "
        f"({'met' if _pct(cpu_s, 0.99) <= 0.005 else 'not met'}). On a loaded machine the wall-clock tail is "
        "mostly time the process spent waiting for a core.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--write", action="store_true", help="write the section into bench/RESULTS.md")
    args = parser.parse_args()
    body = run(args.instances)
    print(body)
    if args.write:
        write_section("bundles_engine", body)


if __name__ == "__main__":
    main()
