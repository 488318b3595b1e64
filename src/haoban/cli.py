"""The ``haoban`` command line (Typer + Rich). Wiring only: each command calls a service."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.applications.cli import apps_app, bundles_app
from haoban.benefits.cli import app as benefits_app
from haoban.calendar.cli import app as calendar_app
from haoban.casework.cli import app as cases_app
from haoban.catalog.cli import app as catalog_app
from haoban.cliutil import console, err, fail
from haoban.dispatch import cli as dispatch_cli
from haoban.dispatch.classifier import TextClassifier
from haoban.dispatch.training import load_default
from haoban.federation.cli import app as federation_app
from haoban.hotspots.cli import app as hotspots_app
from haoban.jobs.cli import app as jobs_app
from haoban.knowledge.cli import app as knowledge_app
from haoban.licences.cli import app as licences_app
from haoban.open311.cli import app as open311_app
from haoban.tourism.cli import app as tourism_app

app = typer.Typer(
    help="好办 haoban — the 12345 hotline and government-service platform.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
orders_app = typer.Typer(help="Work orders in bulk: import and export.", no_args_is_help=True)
audit_app = typer.Typer(help="Case-file (一事一档) integrity.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo city.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(orders_app, name="orders")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(demo_app, name="demo")
app.add_typer(hotspots_app, name="hotspots")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(dispatch_cli.app, name="dispatch")
app.add_typer(tourism_app, name="tourism")
app.add_typer(jobs_app, name="jobs")
app.add_typer(benefits_app, name="benefits")
app.add_typer(cases_app, name="cases")
app.add_typer(catalog_app, name="catalog")
app.add_typer(licences_app, name="licences")
app.add_typer(open311_app, name="open311")
app.add_typer(apps_app, name="applications")
app.add_typer(bundles_app, name="bundles")
app.add_typer(federation_app, name="federation")


def load_classifier(rt) -> None:  # type: ignore[no-untyped-def]
    """Load the dispatch model named by HAOBAN_DISPATCH_MODEL ("auto": shipped, trained if missing)."""
    choice = rt.settings.dispatch_model
    if choice == "off":
        return
    with err.status("loading the dispatch model…"):
        classifier = (
            load_default(train_if_missing=True, data_dir=rt.settings.data_dir)
            if choice == "auto"
            else TextClassifier.load(Path(choice))
        )
    rt.enable_classifier(classifier)
    meta = classifier.metadata or {}
    console.print(f"dispatch model {meta.get('version', '?')} loaded (threshold {classifier.threshold:.2f})")


def _explain_route(text: str, prediction, district) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """``haoban dispatch explain``: the catalogue rule and department for a text."""
    from datetime import UTC, datetime

    from haoban.dispatch.routing import DispatchRequest

    rt = cliutil.runtime()
    rt.db.upgrade()
    load_classifier(rt)
    code = (
        rt.directory.district(district.district).code
        if district and rt.directory.district(district.district)
        else None
    )
    request = DispatchRequest(
        subject="", content=text, order_type="consult", received_at=datetime.now(UTC), district_code=code
    )
    decision = rt.dispatcher.decide(request)
    return {
        "rule": decision.rule_name or "(none)",
        "department": decision.department_code or decision.outcome,
        "why": decision.reason,
    }


def _corrections() -> list[tuple[str, str, float]]:
    """``haoban dispatch train``: operators' corrections stored in the configured database."""
    from haoban.dispatch.ml import correction_examples

    rt = cliutil.runtime()
    try:
        with rt.db.read() as session:
            return correction_examples(session, rt.directory)
    except Exception as exc:
        err.print(f"no corrections read ({exc.__class__.__name__}); training on the shipped data only")
        return []


dispatch_cli.explain_router = _explain_route
dispatch_cli.extra_examples_provider = _corrections


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    rt = cliutil.runtime()
    rt.db.upgrade()
    from haoban.db import current

    console.print(
        f"database {rt.db.engine.url.render_as_string(hide_password=True)} "
        f"at revision {current(rt.db.engine)}"
    )


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database."""
    from haoban.db import current

    rt = cliutil.runtime()
    console.print(current(rt.db.engine) or "(empty database)")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed the demo city (accounts with password 'demo')")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run the background jobs in this server")] = True,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes on this machine")] = 1,
    demo_orders: Annotated[int, typer.Option(help="Orders the demo seeds")] = 300,
    log_level: Annotated[str, typer.Option(help="Log level (debug, info, warning, error)")] = "info",
) -> None:
    """Upgrade the database, optionally seed the demo city, and serve the web app and API.

    With --workers N, N processes share the port; everything they must agree on lives in the database,
    and one of them (whichever holds the jobs lock) runs the background jobs.
    """
    import tempfile

    import uvicorn

    from haoban.ops import logs

    rt = cliutil.runtime()
    rt.db.upgrade()
    logs.configure(log_level, rt.settings.log_format)
    if demo:
        os.environ["HAOBAN_DEMO"] = "1"
        rt.settings.demo = True
        load_classifier(rt)  # route the demo's calls as the server will
        from haoban.demo.seed import seed_demo

        with cliutil.progress() as progress:
            task = progress.add_task("seeding the demo city", total=demo_orders)
            summary = seed_demo(rt, orders=demo_orders, progress=lambda n: progress.advance(task, n))
        _print_demo_accounts(summary)
    console.print(f"[bold]haoban[/bold] on http://{host}:{port}/  ·  API docs http://{host}:{port}/docs")
    options = {
        "host": host,
        "port": port,
        "log_config": logs.uvicorn_log_config(log_level, rt.settings.log_format),
        "access_log": False,  # haoban.access logs each request with its id
        # On SIGTERM: stop accepting, let requests in flight finish (their orders are written), then
        # the lifespan lets the job runner and the intake writer finish.
        "timeout_graceful_shutdown": 30,
        # X-Forwarded-For is read by haoban.deps.client_address, from HAOBAN_TRUSTED_PROXIES only:
        # uvicorn's own default would believe any header sent from 127.0.0.1.
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(_build_served_app(rt, run_worker=worker), **options)  # type: ignore[arg-type]
        return
    # Every process must sign and accept the same tokens: one key for all of them.
    os.environ.setdefault("HAOBAN_SECRET_KEY", rt.settings.secret_key)
    shared = Path(tempfile.mkdtemp(prefix="haoban-serve-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared / "metrics")
    (shared / "metrics").mkdir()
    os.environ["HAOBAN_SERVE_JOBS_LOCK"] = str(shared / "jobs.lock") if worker else ""
    rt.db.dispose()
    from haoban.ops.serving import CannotListen, run_workers

    try:
        run_workers("haoban.cli:served_app", workers=workers, **options)
    except CannotListen as exc:
        raise fail(str(exc)) from None


def served_app() -> object:
    """The app of one of ``serve --workers N``'s processes (uvicorn calls this in each)."""
    rt = cliutil.runtime()
    return _build_served_app(rt, run_worker=False, jobs_lock=os.environ.get("HAOBAN_SERVE_JOBS_LOCK") or None)


def _build_served_app(rt, *, run_worker: bool, jobs_lock: str | None = None) -> object:  # type: ignore[no-untyped-def]
    from haoban.app import create_app
    from haoban.knowledge.service import warm

    load_classifier(rt)
    # Hand the GIL between the event loop and the intake writer sooner than the 5 ms default: the
    # writer's batches then close sooner and request latency drops under load.
    sys.setswitchinterval(0.0005)

    def warm_then_freeze() -> None:
        # Tokenise the knowledge base now so the first search is fast, then move everything loaded
        # so far out of the garbage collector's sight: long-lived indexes make full collections
        # (and the request-latency spikes they cause) expensive.
        warm(rt).join()
        if rt.classifier is not None:
            rt.classifier.predict("小区路灯坏了")  # loads jieba's dictionary now, not in a request
        gc.collect()
        gc.freeze()

    threading.Thread(target=warm_then_freeze, name="haoban-warm", daemon=True).start()
    return create_app(rt, run_worker=run_worker, upgrade=False, jobs_lock=jobs_lock, follow=True)


def _print_demo_accounts(summary: dict[str, object]) -> None:
    table = Table(title="演示账号 Demo accounts (password: demo)")
    table.add_column("username")
    table.add_column("role")
    table.add_column("department")
    for username, role, dept in summary["accounts"]:  # type: ignore[union-attr]
        table.add_row(username, role, dept or "")
    console.print(table)
    console.print(f"demo orders in the database: {summary['orders']}")
    for policy, sample in dict(summary.get("benefits") or {}).items():  # type: ignore[call-overload]
        console.print(
            f"免申即享 {policy}: /portal/benefits with notice code {sample['code']} "
            f"and phone digits {sample['phone_last4']}"
        )


@demo_app.command("seed")
def demo_seed(orders: Annotated[int, typer.Option(help="How many demo orders")] = 300) -> None:
    """Seed the demo city into the configured database (idempotent)."""
    from haoban.demo.seed import seed_demo

    rt = cliutil.runtime()
    rt.db.upgrade()
    load_classifier(rt)  # route the demo calls as `serve --demo` would
    with cliutil.progress() as progress:
        task = progress.add_task("seeding the demo city", total=orders)
        summary = seed_demo(rt, orders=orders, progress=lambda n: progress.advance(task, n))
    _print_demo_accounts(summary)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option(help="operator, dispatcher, handler, supervisor, admin or auditor")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    department: Annotated[str | None, typer.Option(help="Department code (handlers)")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the case file")] = None,
) -> None:
    """Create a staff account."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.directory.service import create_user
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.write() as session:
            user = create_user(
                session,
                actor=SYSTEM_ACTOR,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                department_code=department,
            )
            console.print(f"created {user.username} ({user.role})")
    except DomainError as exc:
        fields = exc.detail.get("fields") or {}
        raise fail(exc.message, fields) from None


@orders_app.command("import")
def orders_import(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX with a header row")],
    source: Annotated[str | None, typer.Option(help="Name of the source system (prefixes row ids)")] = None,
    as_user: Annotated[str, typer.Option("--as", help="Account recorded as the registering actor")] = "admin",
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import historic orders; bad rows are reported by row number, good rows kept, re-runs add nothing."""
    from haoban.errors import DomainError
    from haoban.orders.bulk import import_file, read_rows

    if not file.exists():
        raise fail(f"no such file: {file}")
    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = cliutil.acting_user(rt, as_user)
    try:
        total = sum(1 for _ in read_rows(file))
        with cliutil.progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=total)
            report = import_file(
                rt, path=file, actor=actor, source=source, progress=lambda n: progress.advance(task, n)
            )
    except DomainError as exc:
        raise fail(exc.message) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise fail(f"cannot read {file}: {exc}") from None
    if json_out:
        console.print_json(
            json.dumps(
                {
                    "total": report.total,
                    "created": report.created,
                    "already_present": report.already_present,
                    "errors": [{"row": r, "reason": m} for r, m in report.errors],
                },
                ensure_ascii=False,
            )
        )
    else:
        console.print(
            f"rows {report.total}: created {report.created}, already present {report.already_present}, "
            f"rejected {len(report.errors)}"
        )
        for row, message in report.errors[:200]:
            console.print(f"  row {row}: {message}")
        if len(report.errors) > 200:
            console.print(f"  … and {len(report.errors) - 200} more")
    if report.errors and not report.created and not report.already_present:
        raise typer.Exit(1)


@orders_app.command("export")
def orders_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV file (default: standard output)")
    ] = None,
    status: Annotated[list[str] | None, typer.Option(help="Only these statuses (repeatable)")] = None,
) -> None:
    """Export orders as CSV with personal data masked."""
    import csv

    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.errors import DomainError
    from haoban.orders.bulk import EXPORT_COLUMNS, export_row
    from haoban.orders.queries import OrderFilter, iter_orders

    rt = cliutil.runtime()
    handle = output.open("w", encoding="utf-8-sig", newline="") if output else sys.stdout
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        with rt.db.read_only() as session:
            for order in iter_orders(session, rt, actor=SYSTEM_ACTOR, filters=OrderFilter(status=status)):
                writer.writerow(export_row(order))
                count += 1
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        if output:
            handle.close()
    if output:
        console.print(f"exported {count} orders to {output}")


@audit_app.command("verify")
def audit_verify(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every order's hash chain; name the first broken link of each broken case file."""
    from sqlalchemy import func, select

    from haoban.orders.events import verify_case_files
    from haoban.orders.models import Order

    rt = cliutil.runtime()
    with rt.db.read() as session:
        total = session.scalar(select(func.count(Order.id))) or 0
        with cliutil.progress() as progress:
            task = progress.add_task("verifying case files", total=total)
            checked, breaks = verify_case_files(session, progress=lambda n: progress.advance(task, n))
    if json_out:
        console.print_json(
            json.dumps(
                {
                    "checked": checked,
                    "ok": not breaks,
                    "breaks": [{"order": b.order_code, "seq": b.seq, "reason": b.reason} for b in breaks],
                },
                ensure_ascii=False,
            )
        )
    elif breaks:
        for b in breaks:
            err.print(f"[red]BROKEN[/red] {b.order_code} at event #{b.seq}: {b.reason}")
        err.print(f"{len(breaks)} of {checked} case files fail verification")
    else:
        console.print(f"all {checked} case files verify")
    if breaks:
        raise typer.Exit(1)


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write it (its manifest FILE.json goes beside it)")],
) -> None:
    """Back up the database (SQLite online backup; pg_dump on PostgreSQL) and verify the copy."""
    from haoban.ops.backup import BackupError
    from haoban.ops.backup import backup as run_backup

    rt = cliutil.runtime()
    try:
        manifest = run_backup(rt.settings.database_url, file)
    except BackupError as exc:
        raise fail(str(exc)) from None
    rows = sum(manifest["tables"].values())
    console.print(
        f"backup {file} ({manifest['format']}, schema {manifest['schema']}): "
        f"{len(manifest['tables'])} tables, {rows} rows, sha256 {manifest['sha256'][:16]}…"
    )


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by 'haoban backup'")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing database")] = False,
) -> None:
    """Restore a backup into HAOBAN_DATABASE_URL, then verify row counts and every case file."""
    from haoban.ops.backup import BackupError
    from haoban.ops.backup import restore as run_restore

    rt = cliutil.runtime()
    rt.db.dispose()
    try:
        result = run_restore(file, rt.settings.database_url, force=force)
    except BackupError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"restored {file}: {len(result.tables)} tables, {sum(result.tables.values())} rows as in the "
        f"manifest; {result.case_files} case files verified, {result.broken} broken"
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the periodic jobs once, then exit")] = False,
    concurrency: Annotated[int, typer.Option(help="Jobs run at the same time (PostgreSQL)")] = 1,
) -> None:
    """Run background jobs: on PostgreSQL a procrastinate worker (any number, on any machine); on
    SQLite the in-process runner (``haoban serve`` runs one too unless --no-worker)."""
    from haoban.jobs import make_runner
    from haoban.worker import tick

    rt = cliutil.runtime()
    rt.db.upgrade()
    load_classifier(rt)
    if once:
        result = tick(rt, sweep_due=True)
        console.print(
            f"warnings {result.sweep.warnings}, overdue {result.sweep.overdue}, "
            f"supervised {result.sweep.supervised}, messages sent {result.sent}"
        )
        return
    from haoban.metrics import observe_job
    from haoban.ops import logs

    logs.configure("info", rt.settings.log_format)
    runner = make_runner(rt, concurrency=concurrency, observe=observe_job)
    console.print(f"{runner.kind} job worker running; Ctrl-C to stop")
    if hasattr(runner, "run_forever"):
        runner.run_forever()  # procrastinate: stops gracefully on SIGINT / SIGTERM
        return
    runner.start()
    rt.jobs = runner
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        runner.stop()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
