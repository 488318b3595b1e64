"""The window's case console (办不成事 / 营商环境投诉): the ledger, opening a case (at the window or from a
stuck 12345 order), the case page with its meetings, deadlines and action forms, and the reform list.

Presentation only: the state table says which actions a reader may take; the services validate.
Identity is shown through ``casework.presenters`` (anonymous: the window's staff only).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import FormData

from haoban.auth.actors import Actor
from haoban.auth.roles import STAFF_ROLES
from haoban.casework import access, obstacles, presenters, reform, service, workflow
from haoban.casework.actions import apply_action
from haoban.casework.schemas import CaseAction, CaseCreate
from haoban.db import utcnow
from haoban.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from haoban.orders import access as order_access
from haoban.web import forms, staff
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime
from haoban.web.orders import directory_choices

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TABS: dict[str, list[str] | None] = {
    "open": [s.value for s in workflow.OPEN_STATUSES],
    "received": ["received"],
    "ledger": ["ledgered", "assigned", "consulting"],
    "followup": ["solved", "concluded"],
    "closed": ["closed"],
    "overdue": None,
}
DECISION_ROWS = 3  # decision lines on the meeting form
# What each action's form shows (the meeting has a form of its own).
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "solve_on_spot": (("note", "textarea"),),
    "ledger": (("obstacle", "obstacle"), ("item", "text")),
    "assign": (("department", "department"), ("co_departments", "departments"), ("days", "number")),
    "complete_decision": (("decision_id", "decision"), ("note", "textarea")),
    "supervise": (("note", "textarea"),),
    "conclude": (("outcome", "outcome"), ("explanation", "textarea"), ("proposal", "text")),
    "follow_up": (("result", "result"), ("comment", "text")),
    "reopen": (("reason", "textarea"), ("days", "number")),
    "close": (("reason", "text"),),
}


def _choices(rt: Any) -> dict[str, Any]:
    return {
        **directory_choices(rt),
        "obstacle_list": obstacles.OBSTACLES,
        "kinds": workflow.KINDS,
        "outcomes": workflow.OUTCOMES,
        "results": workflow.FOLLOW_UP_RESULTS,
    }


@router.get("/cases")
def cases_page(request: Request, tab: str = "open", order: str | None = None) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    return render(request, "cases.html", _list_context(request, actor, tab=tab, order=order), actor=actor)


def _list_context(
    request: Request,
    actor: Actor,
    *,
    tab: str,
    order: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    rt = runtime(request)
    tab = tab if tab in TABS else "open"
    now = utcnow()
    filters = service.CaseFilter(status=TABS[tab], overdue=True if tab == "overdue" else None)
    can_open = actor.role in access.OPEN_ROLES
    with rt.db.read() as session:
        rows, total = service.list_cases(
            session, rt, actor=actor, filters=filters, page=1, page_size=100, now=now
        )
        items = [presenters.case_summary(c, warning_ratio=rt.settings.warning_ratio, now=now) for c in rows]
        stuck = service.stuck_orders(session, now=now) if can_open else []
        origin = order_access.load(session, order) if order and can_open else None
    prefill = dict(values or {})
    if origin is not None and not values:
        prefill = {
            "kind": "difficult",
            "subject": origin.subject,
            "content": origin.content,
            "complainant_name": origin.citizen_name or "",
            "complainant_phone": origin.citizen_phone or "",
            "department": rt.directory.department_code(origin.lead_department_id) or "",
        }
    return {
        "items": items,
        "total": total,
        "tab": tab,
        "tabs": list(TABS),
        "can_open": can_open,
        "stuck": stuck,
        "origin": origin.code if origin is not None else (values or {}).get("origin_code"),
        "values": prefill,
        "errors": errors or {},
        "message": message,
        "done": request.query_params.get("done"),
        **_choices(rt),
    }


def _open(request: Request, form: FormData) -> Response:
    actor = require_actor(request, *access.OPEN_ROLES)
    rt = runtime(request)
    # Only the case's own fields (the form also carries its CSRF token).
    data: dict[str, Any] = {
        k: v for k, v in forms.clean(dict(form)).items() if k in CaseCreate.model_fields or k == "origin_code"
    }
    data["anonymous"] = "anonymous" in form
    origin = data.pop("origin_code", None)
    if origin:
        data.update(origin_kind="order", origin_code=origin)
    try:
        body = forms.build(CaseCreate, data)
        with rt.db.write() as session:
            case = service.open_case(session, rt, data=body, actor=actor)  # type: ignore[arg-type]
            code = case.code
    except (Invalid, Conflict) as exc:
        fields = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        ctx = _list_context(
            request,
            actor,
            tab="open",
            errors=fields,
            values={**data, "origin_code": origin},
            message=exc.message,
        )
        return render(request, "cases.html", ctx, status_code=exc.status_code, actor=actor)
    return redirect(f"/cases/{code}", done="open")


@router.post("/cases/new")
async def open_case(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_open, request, form)


def _case_context(
    request: Request,
    *,
    code: str,
    actor: Actor,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    rt = runtime(request)
    with rt.db.read() as session:
        case = access.get_case(session, code=code, actor=actor)
        detail = presenters.case_detail(case, actor=actor, warning_ratio=rt.settings.warning_ratio)
        events = [presenters.event_view(e) for e in service.case_events(session, code=code, actor=actor)]
    undone = [d for m in detail["meetings"] for d in m["decisions"] if d["done_at"] is None]
    return {
        "c": detail,
        "events": events,
        "fields": FIELDS,
        "required": {a: workflow.BY_ACTION[a].required for a in detail["allowed_actions"]},
        "undone": undone,
        "decision_rows": range(DECISION_ROWS),
        "today": utcnow().astimezone(rt.settings.tz).date().isoformat(),
        "dept_names": {
            d.code: staff.dept_name(rt, d.code, lang_of(request))
            for d in rt.directory.departments_by_id.values()
        },
        "errors": errors or {},
        "values": values or {},
        "message": message,
        "done": request.query_params.get("done"),
        "obstacle_label": obstacles.label,
        "case_status_label": lambda s: presenters.status_label(s, lang_of(request)) if s else "",
        **_choices(rt),
    }


@router.get("/cases/{code}")
def case_page(request: Request, code: str) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    return render(request, "case.html", _case_context(request, code=code, actor=actor), actor=actor)


def action_data(action: str, form: FormData) -> dict[str, Any]:
    """The posted form as a ``CaseAction`` body: lists and the meeting's nested fields put together."""
    data: dict[str, Any] = forms.clean({k: v for k, v in form.items() if k in dict(FIELDS.get(action, ()))})
    if action == "assign":
        data["co_departments"] = [str(v) for v in form.getlist("co_departments") if str(v).strip()]
    if action == "meet":
        decisions = []
        for i in range(DECISION_ROWS):
            row = {k: str(form.get(f"d{i}_{k}") or "").strip() for k in ("text", "owner", "due")}
            if any(row.values()):
                decisions.append(row)
        participants = [p.strip() for p in str(form.get("participants") or "").splitlines() if p.strip()]
        data["meeting"] = {
            "held_on": str(form.get("held_on") or "").strip() or None,
            "participants": participants,
            "minutes": str(form.get("minutes") or "").strip(),
            "decisions": decisions,
        }
    return data


def _act(request: Request, code: str, action: str, form: FormData) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    data = action_data(action, form)
    try:
        if action not in workflow.PUBLIC_ACTIONS:
            raise NotFound(f"unknown action {action!r}")
        missing = forms.check_required(
            {k: v for k, v in data.items() if v not in (None, "", [])},
            workflow.BY_ACTION[action].required,
            lang_of(request),
        )
        if missing:
            raise Invalid("required fields are missing", fields=missing)
        body = forms.build(CaseAction, data)
        with rt.db.write() as session:
            apply_action(session, rt, code=code, action=action, data=body, actor=actor)  # type: ignore[arg-type]
    except (Invalid, Conflict, Forbidden) as exc:
        errors = {action: exc.detail.get("fields", {})} if isinstance(exc, Invalid) else {}
        flat = {k: v for k, v in forms.clean(dict(form)).items()}
        ctx = _case_context(
            request, code=code, actor=actor, errors=errors, values={action: flat}, message=exc.message
        )
        return render(request, "case.html", ctx, status_code=exc.status_code, actor=actor)
    return redirect(f"/cases/{code}", done=action)


@router.post("/cases/{code}/act/{action}")
async def case_action(request: Request, code: str, action: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_act, request, code, action, form)


# --- the reform list ------------------------------------------------------------------------------


@router.get("/reform")
def reform_page(request: Request, by: str = "obstacle", months: int = 6) -> Response:
    actor = require_actor(request, *reform.READ_ROLES)
    return render(request, "reform.html", _reform_context(request, actor, by=by, months=months), actor=actor)


def _reform_context(
    request: Request, actor: Actor, *, by: str, months: int, message: str | None = None
) -> dict[str, Any]:
    rt = runtime(request)
    error = None
    if by not in reform.GROUPINGS:
        by, error = "obstacle", "by: obstacle / item / department"
    months = min(max(months, 1), 36)
    with rt.db.read() as session:
        report = reform.reform_list(session, rt, actor=actor, by=by, months=months)
    return {
        "r": report,
        "by": by,
        "proposal_status": lambda s: reform.PROPOSAL_STATUSES.get(s, (s, s))[
            1 if lang_of(request) == "en" else 0
        ],
        "months": months,
        "groupings": reform.GROUPINGS,
        "statuses": reform.PROPOSAL_STATUSES,
        "can_write": actor.role in reform.WRITE_ROLES,
        "message": message or error,
        "done": request.query_params.get("done"),
        **_choices(rt),
    }


def _proposal(request: Request, proposal_id: int | None, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *reform.WRITE_ROLES)
    rt = runtime(request)
    data = forms.clean(form)
    try:
        with rt.db.write() as session:
            if proposal_id is None:
                if not data.get("title"):
                    raise Invalid("a proposal needs a title", fields={"title": "required"})
                reform.create_proposal(
                    session,
                    rt,
                    actor=actor,
                    title=data["title"][:300],
                    obstacle=data.get("obstacle"),
                    item=data.get("item"),
                    owner=data.get("owner"),
                    note=data.get("note"),
                )
            else:
                reform.update_proposal(
                    session,
                    rt,
                    actor=actor,
                    proposal_id=proposal_id,
                    status=data.get("status"),
                    owner=data.get("owner"),
                    note=data.get("note"),
                )
    except DomainError as exc:
        ctx = _reform_context(request, actor, by="obstacle", months=6, message=exc.message)
        return render(request, "reform.html", ctx, status_code=exc.status_code, actor=actor)
    return redirect("/reform", done="proposal")


@router.post("/reform/proposals")
async def new_proposal(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_proposal, request, None, form)


@router.post("/reform/proposals/{proposal_id}")
async def move_proposal(request: Request, proposal_id: int) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_proposal, request, proposal_id, form)
