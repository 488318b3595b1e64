"""Administration pages: departments, users, dispatch rules, time limits, the working calendar.

Each form calls the same function the admin API serves, so the checks (roles, fields) are the API's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from haoban.auth.rbac import ADMIN_ROLES, READ_CONFIG_ROLES, require_role
from haoban.calendar import DurationUnit, store
from haoban.calendar.api import list_schedules
from haoban.directory import api as directory_api
from haoban.directory.models import Role
from haoban.dispatch import api as dispatch_api
from haoban.dispatch.catalogue import OUTCOMES, RuleIn
from haoban.errors import Conflict, Invalid, NotFound
from haoban.orders import admin_api
from haoban.orders.schemas import OrderType, Urgency
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TABS = ("departments", "users", "rules", "sla", "calendar")


def _page(
    request: Request,
    tab: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
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
    }
    if tab == "departments":
        ctx["rows"] = directory_api.list_departments(rt, actor)
    elif tab == "users":
        ctx["rows"] = directory_api.list_users(rt, actor)
        ctx["roles"] = [r.value for r in Role]
        ctx["departments"] = directory_api.list_departments(rt, actor)
    elif tab == "rules":
        ctx["rows"] = dispatch_api.list_rules(rt, actor)
        ctx["outcomes"] = OUTCOMES
        ctx["departments"] = directory_api.list_departments(rt, actor)
    elif tab == "sla":
        ctx["rows"] = admin_api.list_sla(rt, actor)
        ctx["types"] = ["*", *(t.value for t in OrderType)]
        ctx["urgencies"] = [u.value for u in Urgency]
        ctx["units"] = [u.value for u in DurationUnit]
    else:
        require_role(actor, *READ_CONFIG_ROLES)
        ctx["rows"] = list_schedules(rt, actor)
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
        if tab == "departments":
            data = {k: values.get(k) for k in ("code", "name", "name_en", "hotline", "kind") if values.get(k)}
            data["active"] = values.get("active", "on") == "on"
            missing = forms.check_required(values, ["code", "name"], lang)
            if missing:
                raise Invalid("required", fields=missing)
            directory_api.put_department(rt, actor, forms.build(directory_api.DepartmentIn, data))  # type: ignore[arg-type]
        elif tab == "users":
            op = values.get("op", "create")
            if op == "toggle":
                username = values.get("username", "")
                patch = directory_api.UserPatch(active=values.get("active") == "true")
                directory_api.patch_user(rt, actor, username, patch)
            else:
                missing = forms.check_required(values, ["username", "password", "role"], lang)
                if missing:
                    raise Invalid("required", fields=missing)
                keys = ("username", "password", "role", "display_name", "department_code")
                data = {k: values[k] for k in keys if k in values}
                directory_api.create_user(rt, actor, forms.build(directory_api.UserIn, data))  # type: ignore[arg-type]
        elif tab == "rules":
            if values.get("op") == "delete":
                dispatch_api.delete_rule(rt, actor, int(values.get("rule_id", "0") or 0))
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
                dispatch_api.create_rule(rt, actor, forms.build(RuleIn, data))  # type: ignore[arg-type]
        elif tab == "sla":
            keys = ("order_type", "urgency", "sign_amount", "sign_unit", "handle_amount", "handle_unit")
            missing = forms.check_required(values, list(keys), lang)
            if missing:
                raise Invalid("required", fields=missing)
            admin_api.put_sla(rt, actor, forms.build(admin_api.SlaRuleIn, {k: values[k] for k in keys}))  # type: ignore[arg-type]
        elif tab == "calendar":
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Invalid("no file", fields={"file": forms.check_required({}, ["file"], lang)["file"]})
            content = upload.file.read()
            if not content.strip():
                raise Invalid("the schedule is empty", fields={"file": "empty"})
            with rt.db.write() as session:
                store.save_schedule(session, content=content, filename=upload.filename, actor=actor.username)
            rt.invalidate()
        else:
            raise NotFound(f"no admin section {tab!r}")
    except (Invalid, Conflict) as exc:
        errors = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        return _page(
            request, tab, errors=errors, values=values, message=exc.message, status_code=exc.status_code
        )
    return redirect(f"/admin?tab={tab}", saved="1")


@router.post("/admin/{tab}")
async def save(request: Request, tab: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_save, request, tab, form)
