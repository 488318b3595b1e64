"""``haoban applications`` (submit, list, show, act) and ``haoban bundles`` (list, upload, validate).

The commands call the same services as the API, as a named account (``--as``): what that account may
not see or do is refused the same way. Bad input is reported with the field or element and the exit
status is non-zero (2: refused input, 1: a validation that found problems); nothing is stored then.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

apps_app = typer.Typer(help="“一件事” applications: submit, list, show, act on a task.", no_args_is_help=True)
bundles_app = typer.Typer(help="“一件事” bundles (BPMN): list, upload, validate.", no_args_is_help=True)

AS_HELP = "The account to act as (its role and department decide what it may see and do)"


def _actor(rt: Any, username: str | None) -> Any:
    """The named account, or the platform (system) when none is named; an unknown name is refused."""
    from sqlalchemy import select

    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.auth.models import User
    from haoban.auth.service import actor_for

    if not username:
        return SYSTEM_ACTOR
    with rt.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise _fail(f"no account {username!r}", {"--as": "unknown user"})
        return actor_for(user)


def _refused(exc: Any) -> typer.Exit:
    fields = dict(exc.detail.get("fields") or {})
    for p in exc.detail.get("problems") or []:
        where = p.get("field") or f"{p.get('file', '')}:{p.get('element', '')}"
        fields.setdefault(where, p.get("en", ""))
    return _fail(exc.message, fields)


def _read_data(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {what} {path}: {exc}") from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise _fail(f"{what} {path} is not valid JSON/YAML: {exc}") from None


def _materials(specs: list[str]) -> dict[str, Any]:
    from haoban.applications.materials import Upload

    uploads: dict[str, Upload] = {}
    for spec in specs:
        key, sep, path = spec.partition("=")
        if not sep or not key.strip() or not path.strip():
            raise _fail(f"--material {spec!r}: write KEY=FILE", {"--material": "KEY=FILE"})
        file = Path(path.strip())
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise _fail(f"cannot read material {key}: {exc}", {f"materials.{key}": "unreadable"}) from None
        uploads[key.strip()] = Upload(key.strip(), file.name, data)
    return uploads


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


# -- applications ------------------------------------------------------------------------------------


@apps_app.command("submit")
def submit_cmd(
    bundle: Annotated[str, typer.Argument(help="The bundle's code, e.g. newborn")],
    form: Annotated[Path, typer.Option("--form", help="The shared form as a JSON or YAML file")],
    name: Annotated[str, typer.Option("--name", help="The applicant's name")],
    phone: Annotated[str, typer.Option("--phone", help="The applicant's mobile number")],
    id_number: Annotated[str | None, typer.Option("--id-number", help="The applicant's ID number")] = None,
    material: Annotated[
        list[str] | None, typer.Option("--material", "-m", help="KEY=FILE (PDF, JPEG or PNG); repeat")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Submit once: the shared form and its materials start the bundle at every department. As a
    window clerk (``--as`` a window account) it is a walk-in registration."""
    from haoban.applications import presenters, service
    from haoban.auth.roles import Role
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = _actor(rt, as_user)
    data = _read_data(form, "form")
    if not isinstance(data, dict):
        raise _fail(f"form {form} must hold an object (the form's fields)", {"form": "not an object"})
    uploads = _materials(material or [])
    channel = "window" if actor.role == Role.WINDOW else "online"
    try:
        with rt.db.write() as session:
            app, _ = service.submit(
                session,
                rt,
                bundle=bundle,
                form=data,
                applicant=service.Applicant(name, phone, id_number),
                actor=actor,
                uploads=uploads,
                channel=channel,
            )
            view = presenters.track(rt, session, app)
    except DomainError as exc:
        raise _refused(exc) from None
    if json_out:
        _echo(view)
    else:
        console.print(f"[bold]{view['code']}[/bold] {view['bundle_name']}: {view['status_label']}")
        for t in view["tasks"]:
            console.print(f"  {t['name']} · {t['department_name']} · {t['status_label']}", highlight=False)


@apps_app.command("list")
def list_cmd(
    status: Annotated[list[str] | None, typer.Option("--status", help="Only these statuses")] = None,
    bundle: Annotated[str | None, typer.Option("--bundle", help="Only this bundle")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Applications the account may see, green channel first, newest first."""
    from haoban.applications import presenters, queries
    from haoban.applications.workflow import AppStatus
    from haoban.errors import DomainError

    known = {s.value for s in AppStatus}
    bad = [s for s in status or [] if s not in known]
    if bad:
        raise _fail(
            f"unknown status {bad[0]!r}; statuses are: {', '.join(sorted(known))}", {"--status": bad[0]}
        )
    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = _actor(rt, as_user)
    try:
        with rt.db.read() as session:
            rows, total = queries.list_applications(
                session, actor=actor, status=status, bundle=bundle, page=1, page_size=limit
            )
            items = [presenters.summary(rt, session, a) for a in rows]
    except DomainError as exc:
        raise _refused(exc) from None
    if json_out:
        _echo({"items": items, "total": total})
        return
    table = Table("code", "bundle", "applicant", "status", "submitted")
    for i in items:
        table.add_row(
            i["code"], i["bundle_name"], i["applicant_name"], i["status"], str(i["submitted_at"])[:16]
        )
    console.print(table)
    console.print(f"{total} application(s)")


@apps_app.command("show")
def show_cmd(
    code: Annotated[str, typer.Argument(help="The application's code (BJ…)")],
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One application: its tasks with their departments and states, deliveries, and the timeline."""
    from haoban.applications import access, presenters
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = _actor(rt, as_user)
    try:
        with rt.db.read() as session:
            app = access.get_application(session, code=code, actor=actor)
            detail = presenters.detail(rt, session, app, actor)
            timeline = presenters.track(rt, session, app)["timeline"]
    except DomainError as exc:
        raise _refused(exc) from None
    if json_out:
        _echo({**detail, "timeline": timeline})
        return
    head = f"{detail['bundle_name']} v{detail['bundle_version']}: {detail['status']}"
    console.print(f"[bold]{detail['code']}[/bold] {head}")
    table = Table("task", "item", "department", "status", "due")
    for t in detail["tasks"]:
        table.add_row(t["task_id"], t["name"], t["department_name"], t["status"], str(t["due_at"])[:16])
    console.print(table)
    for d in detail["deliveries"]:
        console.print(
            f"delivery #{d['id']} {d['method']} {d.get('tracking_no') or ''} {d['status']}", highlight=False
        )
    for e in timeline:
        console.print(f"  {str(e['at'])[:16]} {e['text']}", highlight=False)


@apps_app.command("act")
def act_cmd(
    code: Annotated[str, typer.Argument(help="The application's code")],
    task: Annotated[str, typer.Argument(help="The task id, e.g. hukou")],
    action: Annotated[
        str, typer.Argument(help="accept, accept_tolerated, request_correction, approve, reject, supervise")
    ],
    as_user: Annotated[str, typer.Option("--as", help=AS_HELP)],
    result: Annotated[
        str | None, typer.Option("--result", help="approve: the result as JSON, or @FILE (JSON/YAML)")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="reject / request_correction")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="request_correction: a form field")
    ] = None,
    material: Annotated[list[str] | None, typer.Option("--material", help="a material key")] = None,
    promised_by: Annotated[
        str | None, typer.Option("--promised-by", help="accept_tolerated: YYYY-MM-DD")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="supervise: the note")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A department's action on its own task (the same rules as the API and the inbox)."""
    from haoban.applications import access, presenters, service
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = _actor(rt, as_user)
    data: dict[str, Any] | None = None
    if result is not None:
        if result.startswith("@"):
            data = _read_data(Path(result[1:]), "result")
        else:
            try:
                data = json.loads(result)
            except ValueError as exc:
                raise _fail(f"--result is not valid JSON: {exc}", {"result": "not JSON"}) from None
        if not isinstance(data, dict):
            raise _fail("--result must be a JSON object", {"result": "not an object"})
    due: date | None = None
    if promised_by is not None:
        try:
            due = date.fromisoformat(promised_by)
        except ValueError:
            raise _fail(
                f"--promised-by {promised_by!r} is not a date (YYYY-MM-DD)", {"promised_by": "not a date"}
            ) from None
    mats = list(material or [])
    body = service.TaskAction(
        result=data,
        reason=reason,
        fields=list(field or []) or None,
        materials=mats or None,
        material=mats[0] if action == "accept_tolerated" and mats else None,
        promised_by=due,
        note=note,
    )
    try:
        service.act_alone(rt, code=code, task_id=task, action=action, data=body, actor=actor)
        with rt.db.read() as session:
            app = access.get_application(session, code=code, actor=actor)
            detail = presenters.detail(rt, session, app, actor)
    except DomainError as exc:
        raise _refused(exc) from None
    if json_out:
        _echo(detail)
        return
    row = next(t for t in detail["tasks"] if t["task_id"] == task)
    console.print(f"{code} {task}: {row['status']} · application {detail['status']}", highlight=False)


# -- bundles -----------------------------------------------------------------------------------------


def _files(directory: Path) -> dict[str, bytes]:
    from haoban.bundles.definitions import FILES

    if not directory.is_dir():
        raise _fail(f"{directory} is not a directory holding {', '.join(FILES)}", {"directory": "not found"})
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise _fail(f"{directory} lacks {', '.join(missing)}", {name: "file missing" for name in missing})
    return {name: (directory / name).read_bytes() for name in FILES}


@bundles_app.command("list")
def bundles_list_cmd(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The bundles people can apply for (their latest versions)."""
    from haoban.applications import presenters, registry

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.read() as session:
        items = [
            presenters.bundle_view(r, registry.definition_of(rt, r)) for r in registry.latest_rows(session)
        ]
    if json_out:
        _echo(items)
        return
    table = Table("code", "name", "version", "promise", "tasks")
    for b in items:
        table.add_row(b["code"], b["name"], str(b["version"]), b["promise"], str(b["tasks"]))
    console.print(table)


@bundles_app.command("validate")
def bundles_validate_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory with process.bpmn, form.schema.json, …")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a bundle against the service catalogue and the directory without storing it. Exit status 1
    with every problem (file, element, reason) when it would be refused."""
    from haoban.applications import registry
    from haoban.bundles.definitions import DefinitionError

    files = _files(directory)
    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            definition = registry.check(session, rt, files=files)
    except DefinitionError as exc:
        if json_out:
            _echo({"valid": False, "problems": [p.to_dict() for p in exc.problems]})
        else:
            for p in exc.problems:
                line = f" line {p.line}" if p.line else ""
                console.print(f"[red]{p.file}{line}[/red] {p.element}: {p.en} / {p.zh}", highlight=False)
        raise typer.Exit(1) from None
    summary = {
        "valid": True,
        "code": definition.code,
        "name": definition.name,
        "tasks": sorted(definition.tasks),
    }
    if json_out:
        _echo(summary)
    else:
        console.print(f"{definition.code} ({definition.name}) is valid: {len(definition.tasks)} tasks")


@bundles_app.command("upload")
def bundles_upload_cmd(
    directory: Annotated[Path, typer.Argument(help="A directory with process.bpmn, form.schema.json, …")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="An administrator (default: the platform)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Store the bundle as its next version (running applications keep theirs). The same files again
    change nothing."""
    from haoban.applications import presenters, registry
    from haoban.errors import DomainError

    files = _files(directory)
    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = _actor(rt, as_user)
    try:
        with rt.db.write() as session:
            row, created = registry.upload(session, rt, files=files, actor=actor)
            view = {**presenters.bundle_view(row, registry.definition_of(rt, row)), "created": created}
    except DomainError as exc:
        raise _refused(exc) from None
    if json_out:
        _echo(view)
    else:
        verb = "stored as version" if created else "unchanged at version"
        console.print(f"{view['code']} {verb} {view['version']}")
