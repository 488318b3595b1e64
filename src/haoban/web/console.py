"""The operator console: register a call fast, answer or transfer it at once, and the dispatch queue."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from haoban.auth.actors import Actor
from haoban.db import utcnow
from haoban.dispatch import api as dispatch_api
from haoban.dispatch.departments import active_departments, candidates_for_stored
from haoban.dispatch.routing import TRANSFER_TARGETS, DispatchRequest
from haoban.dispatch.schemas import ExplainIn
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.orders import access, presenters, queries
from haoban.orders.access import STAFF_INTAKE_ROLES as INTAKE_ROLES
from haoban.orders.intake import create_order, register_and_act
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.web import forms, i18n, messages, panels, staff
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime
from haoban.web.orders import bulk_apply, directory_choices

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REGISTER_FIELDS = (
    "type",
    "urgency",
    "content",
    "subject",
    "citizen_name",
    "citizen_phone",
    "address",
    "district",
    "department",
    "channel",
)
MODES = ("dispatch", "answer", "transfer")


def _console(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    last = request.query_params.get("code")
    ctx = {
        "values": values or {"type": "complaint", "urgency": "normal", "channel": "phone"},
        "errors": {k: messages.localize(v, lang) for k, v in (errors or {}).items()},
        "message": messages.localize(message, lang) if message else None,
        "targets": TRANSFER_TARGETS,
        "last": last,
        "confirmation": _confirmation(rt, actor, last, lang) if last else None,
        "dept_groups": staff.department_groups(rt, lang),
        **directory_choices(rt),
    }
    return render(request, "console.html", ctx, status_code=status_code, actor=actor)


def _confirmation(rt: Any, actor: Actor, code: str, lang: str) -> dict[str, Any] | None:
    """What the operator tells the caller: the code, where the appeal went and by when it is handled."""
    try:
        with rt.db.read() as session:
            order = access.get_order(session, code=code, actor=actor)
            view = presenters.order_summary(order, rt)
            view["transfer_target"] = order.transfer_target
    except NotFound:
        return None
    handle = view["deadlines"]["handle"]
    return {
        "code": view["code"],
        "status": view["status"],
        "department": staff.dept_name(rt, view["department"], lang),
        "deadline": handle["at"] if view["status"] not in ("answered", "transferred") else None,
        "provisional": handle.get("provisional"),
        "transfer_target": view["transfer_target"],
    }


@router.get("/console")
def console(request: Request) -> Response:
    actor = require_actor(request, *INTAKE_ROLES)
    return _console(request, actor)


def _register(request: Request, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    mode = values.get("mode", "dispatch")
    if values.get("transfer_now") in TRANSFER_TARGETS:  # the always-visible 110/119/120/122 buttons
        mode, values["target"] = "transfer", values["transfer_now"]
    if mode not in MODES:
        mode = "dispatch"
    errors = forms.check_required(values, ["content"], lang)
    if mode == "answer":
        errors.update(forms.check_required(values, ["answer"], lang))
    if mode == "transfer":
        errors.update(forms.check_required(values, ["target"], lang))
    if errors:
        return _console(request, actor, values=values, errors=errors, status_code=422)
    fields = {k: values[k] for k in REGISTER_FIELDS if k in values}
    try:
        data = forms.build(OrderCreate, fields)
        with rt.db.write() as session:
            if mode == "dispatch":
                created = create_order(session, rt, data=data, actor=actor)  # type: ignore[arg-type]
            else:
                request_ = (
                    ActionRequest(answer=values.get("answer"))
                    if mode == "answer"
                    else ActionRequest(target=values.get("target"))
                )
                created = register_and_act(
                    session,
                    rt,
                    data=data,
                    actor=actor,
                    action=mode,
                    request=request_,  # type: ignore[arg-type]
                )
    except (Invalid, Conflict) as exc:
        errs = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        return _console(request, actor, values=values, errors=errs, message=exc.message, status_code=422)
    return redirect("/console", code=created.code)


@router.post("/console")
async def register(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_register, request, form)


def dispatch_request(o: Any, rt: Any) -> DispatchRequest:
    """What the router sees of a registered order (to rank the departments for the queue)."""
    district = rt.directory.districts_by_id.get(o.district_id) if o.district_id else None
    category = rt.directory.categories_by_id.get(o.category_id) if o.category_id else None
    return DispatchRequest(
        subject=o.subject,
        content=o.content,
        order_type=o.order_type,
        received_at=o.received_at,
        district_code=district.code if district else None,
        address=o.address,
        category_code=category.code if category else None,
    )


@router.get("/console/queue")
def queue(request: Request, page: int = 1) -> Response:
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    page = max(1, page)
    now = utcnow()
    with rt.db.read() as session:
        rows, total = queries.list_orders(
            session,
            rt,
            actor=actor,
            filters=queries.OrderFilter(status=["pending_dispatch", "registered"]),
            page=page,
            page_size=20,
            order="oldest",  # a queue is worked in arrival order: the longest waiting first
        )
        items = [presenters.order_detail(o, rt, actor=actor, now=now) for o in rows]
        departments = active_departments(rt.directory)
        for o, item in zip(rows, items, strict=True):
            # The likeliest departments first in the picker, the first one pre-selected.
            ranked = candidates_for_stored(
                router=rt.router,
                departments=departments,
                request=dispatch_request(o, rt),
                suggestions=item["dispatch"]["suggestions"],
            )
            item["dept_groups"] = staff.ranked_department_groups(rt, lang_of(request), ranked)
            item["dept_first"] = ranked[0].code if ranked and ranked[0].score > 0 else None
            item["similar"] = panels.similar_orders(session, rt, code=item["code"], actor=actor)
            item["merge_group"] = panels.merge_group(item, item["similar"])
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // 20)),
            "done": request.query_params.get("done"),
            "merged": request.query_params.get("merged"),
            "error": request.query_params.get("error"),
            "done_code": request.query_params.get("code"),
            "dept_groups": staff.department_groups(rt, lang_of(request)),
            "now": now,
            "bulk_done": [c for c in (request.query_params.get("bulk_done") or "").split(",") if c],
            "bulk_failed": [c for c in (request.query_params.get("bulk_failed") or "").split(";") if c],
            **directory_choices(rt),
        },
        actor=actor,
    )


def _merge_all(request: Request, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    master = str(form.get("master") or "").strip()
    duplicates = [c for c in str(form.get("duplicates") or "").split(",") if c.strip()]
    try:
        with rt.db.write() as session:
            done = panels.merge_all(session, rt, master=master, duplicates=duplicates, actor=actor)
    except (Invalid, Conflict, Forbidden, NotFound) as exc:
        return redirect("/console/queue", error=exc.message)
    return redirect("/console/queue", merged=",".join(done["merged"]), code=done["master"])


@router.post("/console/queue/merge_all")
async def merge_all(request: Request) -> Response:
    """Merge all: one press puts a candidate group under its master (each merge through the gate)."""
    form = dict(await request.form())
    return await run_in_threadpool(_merge_all, request, form)


@router.get("/console/caller")
def caller(request: Request, phone: str = "") -> Response:
    """The incoming number's earlier orders, for the console's caller-history panel (JSON)."""
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        rows = queries.caller_history(session, actor=actor, phone=phone)
        items = [presenters.order_summary(o, rt) for o in rows]
    return JSONResponse(
        {
            "orders": [
                {
                    "code": o["code"],
                    "subject": o["subject"],
                    "status": o["status"],
                    "status_label": presenters.status_label(o["status"], lang),
                    "received_at": o["received_at"].astimezone(rt.settings.tz).strftime("%Y-%m-%d"),
                    "department": staff.dept_name(rt, o["department"], lang),
                }
                for o in items
            ]
        },
        headers={"Cache-Control": "no-store"},
    )


def _bulk_dispatch(request: Request, form: Any) -> Response:
    """Dispatch the ticked orders of the queue to one department (each through the gate, each on its own:
    one refused order does not undo the others)."""
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    codes = [c for c in form.getlist("codes") if isinstance(c, str) and c.strip()][:100]
    department = str(form.get("department") or "").strip()
    if not codes or not department:
        missing = "codes" if not codes else "department"
        return redirect("/console/queue", error=i18n.translate(f"bulk_missing_{missing}", lang))
    done, failed = bulk_apply(rt, actor, codes, "dispatch", ActionRequest(department=department), lang)
    return redirect("/console/queue", bulk_done=",".join(done), bulk_failed=";".join(failed))


@router.post("/console/queue/bulk")
async def bulk_dispatch(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_bulk_dispatch, request, form)


# --- the live dispatch explanation, in the page's language ---------------------------------------------


def _category_names(text: str, rt: Any, lang: str) -> str:
    """The ranking names categories by code ("category C3-0012 (45%)"): a person reads its path."""

    def name(m: re.Match[str]) -> str:
        return f"category {staff.category_name(rt, m.group(1), lang)} ("

    return _CATEGORY_CODE.sub(name, text)


_CATEGORY_CODE = re.compile(r"category (\S+) \(")


def _explain(request: Request, body: Any) -> Response:
    actor = require_actor(request, *INTAKE_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    try:
        data = ExplainIn.model_validate(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        fields = {".".join(str(x) for x in e["loc"]): messages.localize(e["msg"], lang) for e in exc.errors()}
        return JSONResponse({"error": "invalid", "fields": fields}, status_code=422)
    out = dispatch_api.explain(rt, actor, data)
    d = out["decision"]
    d["why"] = messages.localize_reasons(d.get("why"), lang)
    d["outcome_label"] = i18n.translate(f"outcome_{d['outcome']}", lang)
    for c in out["departments"]:
        c["reason"] = messages.localize_reasons(_category_names(c.get("reason") or "", rt, lang), lang)
    return JSONResponse(jsonable_encoder(out))


@router.post("/console/explain")
async def explain(request: Request) -> Response:
    """What the console's suggestion panel shows while the operator types: the catalogue's decision and
    the ranked departments (``POST /api/v1/dispatch/explain``), its reasons in the page's language."""
    try:
        body = await request.json()
    except ValueError:
        body = {}
    return await run_in_threadpool(_explain, request, body)
