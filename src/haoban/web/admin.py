"""Administration pages: departments, users, dispatch rules, time limits, the working calendar.

Each form calls the same service the admin API calls, so the checks (roles, fields) are the services'.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from haoban.auth import audit
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES, STAFF_ROLES
from haoban.calendar import DurationUnit, schedule_to_dict
from haoban.directory import service as directory
from haoban.directory.api import user_out
from haoban.directory.schemas import DepartmentIn, UserIn
from haoban.directory.vocabulary import OrderType, Urgency
from haoban.dispatch import catalogue
from haoban.dispatch.catalogue import OUTCOMES, RuleIn
from haoban.errors import Conflict, Invalid, NotFound
from haoban.open311 import keys as open311_keys
from haoban.sla import schedules
from haoban.sla import service as sla
from haoban.sla.schemas import SlaRuleIn
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime
from haoban.web.i18n import translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TABS = ("departments", "users", "rules", "sla", "calendar", "open311")


def _page(
    request: Request,
    tab: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
    issued_key: str | None = None,
) -> Response:
    actor = require_actor(request, *READ_CONFIG_ROLES)
    rt = runtime(request)
    if tab not in TABS:
        tab = "departments"
    ctx: dict[str, Any] = {
        "tab": tab,
        "tabs": TABS,
        "can_edit": actor.role in ADMIN_ROLES,
        "errors": errors or {},
        "values": values or {},
        "message": message,
        "saved": request.query_params.get("saved"),
        "issued_key": issued_key,  # an Open311 key just issued: shown this once
    }
    with rt.db.read() as session:
        if tab == "departments":
            ctx["rows"] = directory.list_departments(session)
        elif tab == "users":
            ctx["rows"] = [user_out(rt, u) for u in directory.list_users(session, actor=actor)]
            ctx["roles"] = [str(r) for r in STAFF_ROLES]
            ctx["departments"] = directory.list_departments(session)
        elif tab == "rules":
            ctx["rows"] = [catalogue.rule_to_dict(r) for r in catalogue.rules_for(session, actor=actor)]
            ctx["outcomes"] = OUTCOMES
            ctx["departments"] = directory.list_departments(session)
        elif tab == "sla":
            ctx["rows"] = sla.rules_in_force(rt.sla, actor=actor)
            ctx["types"] = ["*", *(t.value for t in OrderType)]
            ctx["urgencies"] = [u.value for u in Urgency]
            ctx["units"] = [u.value for u in DurationUnit]
        elif tab == "open311":
            ctx["rows"] = open311_keys.list_clients(session, actor=actor)
        else:
            ctx["rows"] = [schedule_to_dict(s) for s in schedules.list_schedules(session, actor=actor)]
    return render(request, "admin.html", ctx, status_code=status_code, actor=actor)


@router.get("/admin")
def admin(request: Request, tab: str = "departments") -> Response:
    return _page(request, tab)


def _save(request: Request, tab: str, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *ADMIN_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean({k: v for k, v in form.items() if isinstance(v, str)})
    try:
        with rt.db.write() as session:
            issued = _apply(session, rt, actor, tab, values, form, lang)
        rt.invalidate()
        rt.actors.clear()  # a disabled account or a new password takes effect in this process at once
    except (Invalid, Conflict) as exc:
        errors = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        return _page(
            request, tab, errors=errors, values=values, message=exc.message, status_code=exc.status_code
        )
    if isinstance(issued, open311_keys.IssuedKey):  # shown once: no redirect that would lose it
        return _page(request, tab, issued_key=issued.api_key, status_code=201)
    return redirect(f"/admin?tab={tab}", saved="1")


def _apply(
    session: Any, rt: Any, actor: Any, tab: str, values: dict[str, str], form: dict[str, Any], lang: str
) -> Any:
    """One admin form: parse it, then call the service (which checks the role and the rules). Returns
    what the page must show once (an issued Open311 key), else None."""
    if tab == "departments":
        missing = forms.check_required(values, ["code", "name"], lang)
        if missing:
            raise Invalid("required", fields=missing)
        data = {k: values.get(k) for k in ("code", "name", "name_en", "hotline", "kind") if values.get(k)}
        data["active"] = values.get("active", "on") == "on"
        directory.upsert_department(session, actor=actor, **forms.build(DepartmentIn, data).model_dump())
    elif tab == "users":
        if values.get("op", "create") == "toggle":
            directory.update_user(
                session,
                actor=actor,
                username=values.get("username", ""),
                active=values.get("active") == "true",
            )
        else:
            missing = forms.check_required(values, ["username", "password", "role"], lang)
            if missing:
                raise Invalid("required", fields=missing)
            keys = ("username", "password", "role", "display_name", "department_code")
            data = {k: values[k] for k in keys if k in values}
            directory.create_user(session, actor=actor, **forms.build(UserIn, data).model_dump())
    elif tab == "rules":
        if values.get("op") == "delete":
            catalogue.delete_rule(session, rule_id=int(values.get("rule_id", "0") or 0), actor=actor)
        else:
            missing = forms.check_required(values, ["name", "outcome"], lang)
            if missing:
                raise Invalid("required", fields=missing)
            data = {
                k: values[k]
                for k in ("name", "outcome", "department_code", "transfer_target", "guidance", "position")
                if k in values
            }
            data["keywords"] = [
                k for k in values.get("keywords", "").replace("，", ",").split(",") if k.strip()
            ]
            rule = forms.build(RuleIn, data)
            catalogue.create_rule(session, data=rule, directory=rt.directory, actor=actor)  # type: ignore[arg-type]
    elif tab == "sla":
        keys = ("order_type", "urgency", "sign_amount", "sign_unit", "handle_amount", "handle_unit")
        missing = forms.check_required(values, list(keys), lang)
        if missing:
            raise Invalid("required", fields=missing)
        sla.set_rule(
            session, actor=actor, **forms.build(SlaRuleIn, {k: values[k] for k in keys}).model_dump()
        )
    elif tab == "calendar":
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("no file", fields={"file": forms.check_required({}, ["file"], lang)["file"]})
        schedules.save_schedule(session, actor=actor, content=upload.file.read(), filename=upload.filename)
    elif tab == "open311":
        if values.get("op") == "revoke":
            open311_keys.revoke_key(session, actor=actor, ref=values.get("client_id", ""))
            return None
        missing = forms.check_required(values, ["name"], lang)
        if missing:
            raise Invalid("required", fields=missing)
        rate = values.get("rate_per_minute") or str(open311_keys.DEFAULT_RATE)
        if not rate.isdigit():
            raise Invalid("not a number", fields={"rate_per_minute": "a whole number of calls a minute"})
        return open311_keys.issue_key(
            session,
            actor=actor,
            name=values["name"],
            contact=values.get("contact"),
            rate_per_minute=int(rate),
        )
    else:
        raise NotFound(f"no admin section {tab!r}")


@router.post("/admin/{tab}")
async def save(request: Request, tab: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_save, request, tab, form)


# --- the login audit (登录日志): administrators only ---------------------------------------------------

LOGINS_PAGE_SIZE = 50


@router.get("/admin/logins")
def login_audit(request: Request) -> Response:
    """Who tried to log in, when, from where, through which door, and the outcome; filtered, paged."""
    actor = require_actor(request, *ADMIN_ROLES)
    rt = runtime(request)
    q = request.query_params
    values = {k: q.get(k, "").strip() for k in ("username", "result", "address", "since", "until", "page")}
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {"since": None, "until": None}
    for key in days:
        if values[key]:
            try:
                days[key] = date.fromisoformat(values[key])
            except ValueError:
                errors[key] = translate("la_bad_date", lang_of(request))
    if values["result"] and values["result"] not in audit.RESULTS:
        errors["result"] = translate("la_bad_result", lang_of(request))
    for key, limit in (("username", 64), ("address", 64)):
        if len(values[key]) > limit:
            errors[key] = translate("la_too_long", lang_of(request))
    page = int(values["page"]) if values["page"].isdigit() and 0 < int(values["page"]) <= 100_000 else 1
    filters = audit.LoginFilter(
        username=values["username"] or None,
        result=values["result"] or None,
        address=values["address"] or None,
        since=days["since"],
        until=days["until"],
    )
    rows: list[Any] = []
    total = 0
    if not errors:
        with rt.db.read() as session:
            rows, total = audit.login_events(
                session,
                actor=actor,
                filters=filters,
                tz=rt.settings.tz,
                page=page,
                page_size=LOGINS_PAGE_SIZE,
            )
    pages = max(1, -(-total // LOGINS_PAGE_SIZE))
    kept = {k: v for k, v in values.items() if v and k != "page"}
    ctx = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "values": values,
        "errors": errors,
        "results": audit.RESULTS,
        "prev_href": f"/admin/logins?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        "next_href": f"/admin/logins?{urlencode({**kept, 'page': page + 1})}" if page < pages else None,
    }
    return render(request, "admin_logins.html", ctx, status_code=422 if errors else 200, actor=actor)
