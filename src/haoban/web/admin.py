"""Administration pages: departments, users, dispatch rules, time limits, the working calendar.

Each form calls the same service the admin API calls, so the checks (roles, fields) are the services'.
Deleting a rule or a year's calendar asks first and keeps a history to restore from; a calendar upload
is previewed (what it adds, what it drops) and only saved once the admin confirms.
"""

from __future__ import annotations

import json
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
from haoban.db import utcnow
from haoban.directory import service as directory
from haoban.directory.api import user_out
from haoban.directory.schemas import DepartmentIn, UserIn
from haoban.directory.vocabulary import OrderType, Urgency
from haoban.dispatch import catalogue
from haoban.dispatch.catalogue import OUTCOMES, RuleIn
from haoban.dispatch.routing import TRANSFER_TARGETS
from haoban.errors import Conflict, Invalid, NotFound
from haoban.open311 import keys as open311_keys
from haoban.orders import calendar_impact
from haoban.orders import reply_templates as templates
from haoban.sla import schedules
from haoban.sla import service as sla
from haoban.sla.schemas import SlaRuleIn
from haoban.web import forms, i18n, messages, staff
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime
from haoban.web.i18n import translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TABS = ("departments", "users", "rules", "templates", "sla", "calendar", "open311")
# The calendar template an admin downloads: Chinese headers (English ones are accepted too).
TEMPLATE_CSV = {
    "zh": (
        "# 每行一天：日期（YYYY-MM-DD）、类型（休 = 放假；班 = 调休上班）、名称（放假日必填）\n"
        "# 以 # 开头的行会被忽略。年份取自日期；一次上传一年。\n"
        "日期,类型,名称\n"
        "2027-01-01,休,元旦\n"
        "2027-02-06,休,春节\n"
        "2027-02-07,休,春节\n"
        "2027-02-14,班,\n"
    ),
    "en": (
        "# One day a line: date (YYYY-MM-DD), kind (holiday or makeup_workday), name (for holidays)\n"
        "# Lines starting with # are ignored. The year comes from the dates; one year per upload.\n"
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-02-06,holiday,春节\n"
        "2027-02-07,holiday,春节\n"
        "2027-02-14,makeup_workday,\n"
    ),
}


def _rule_view(rt: Any, rule: dict[str, Any], lang: str) -> dict[str, Any]:
    """A rule as people read it: names instead of codes."""
    out = dict(rule)
    out["department_name"] = staff.dept_name(rt, rule.get("department_code"), lang)
    out["co_handler_names"] = [staff.dept_name(rt, c, lang) for c in rule.get("co_handler_codes") or []]
    out["category_name"] = staff.category_name(rt, rule.get("category_code"), lang)
    out["district_name"] = staff.district_name(rt, rule.get("district_code"), lang)
    return out


def _page(
    request: Request,
    tab: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    preview: dict[str, Any] | None = None,
    status_code: int = 200,
    issued_key: str | None = None,
) -> Response:
    actor = require_actor(request, *READ_CONFIG_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    if tab not in TABS:
        tab = "departments"
    ctx: dict[str, Any] = {
        "tab": tab,
        "tabs": TABS,
        "can_edit": actor.role in ADMIN_ROLES,
        "errors": {k: messages.localize(v, lang) for k, v in (errors or {}).items()},
        "values": values or {},
        "message": messages.localize(message, lang) if message else None,
        "saved": request.query_params.get("saved"),
        "issued_key": issued_key,  # an Open311 key just issued: shown this once
        "restored": request.query_params.get("restored"),
        "preview": preview,
        "dept_label": lambda code: staff.dept_name(rt, code, lang),
    }
    confirm = request.query_params.get("confirm_delete")
    with rt.db.read() as session:
        if tab == "departments":
            ctx["rows"] = directory.list_departments(session)
        elif tab == "users":
            ctx["rows"] = [user_out(rt, u) for u in directory.list_users(session, actor=actor)]
            ctx["roles"] = [str(r) for r in STAFF_ROLES]
            ctx["departments"] = directory.list_departments(session)
        elif tab == "rules":
            rules = [
                _rule_view(rt, catalogue.rule_to_dict(r), lang)
                for r in catalogue.rules_for(session, actor=actor)
            ]
            ctx["rows"] = rules
            ctx["outcomes"] = OUTCOMES
            ctx["targets"] = TRANSFER_TARGETS
            ctx["dept_groups"] = staff.department_groups(rt, lang)
            ctx["confirm_rule"] = next((r for r in rules if confirm and str(r["id"]) == confirm), None)
            ctx["deleted_rules"] = _deleted_rules(rt, session, actor, lang, {r["id"] for r in rules})
        elif tab == "templates":
            rows = [
                _template_view(rt, templates.template_to_dict(x), lang)
                for x in templates.list_templates(session, actor=actor)
            ]
            ctx["rows"] = rows
            ctx["categories"] = sorted(
                (c for c in rt.directory.categories_by_id.values() if c.level <= 2), key=lambda c: c.path
            )
            ctx["placeholders"] = templates.PLACEHOLDERS
            ctx["confirm_template"] = next((x for x in rows if confirm and str(x["id"]) == confirm), None)
            editing = request.query_params.get("edit")
            ctx["editing"] = next((x for x in rows if editing and str(x["id"]) == editing), None)
            if ctx["editing"] and not values:  # the form starts with the template's own values
                ctx["values"] = {k: ctx["editing"][k] or "" for k in ("id", "title", "body", "category")}
            ctx["deleted_templates"] = [
                {
                    **_template_view(rt, snap, lang),
                    "revision_id": rev.id,
                    "deleted_at": rev.at,
                    "deleted_by": rev.actor,
                }
                for rev, snap in templates.deleted_templates(
                    session, actor=actor, live={x["id"] for x in rows}
                )
            ]
        elif tab == "sla":
            ctx["rows"] = sla.rules_in_force(rt.sla, actor=actor)
            ctx["types"] = ["*", *(t.value for t in OrderType)]
            ctx["urgencies"] = [u.value for u in Urgency]
            ctx["units"] = [u.value for u in DurationUnit]
        elif tab == "open311":
            ctx["rows"] = open311_keys.list_clients(session, actor=actor)
        else:
            ctx["rows"] = [schedule_to_dict(s) for s in schedules.list_schedules(session, actor=actor)]
            years = ctx["rows"]
            ctx["confirm_year"] = next((s for s in years if confirm and str(s["year"]) == confirm), None)
            ctx["history"] = [
                {
                    "id": h.id,
                    "year": h.year,
                    "change": h.change,
                    "at": h.at,
                    "actor": h.actor,
                    "source": h.source,
                    "holidays": json.loads(h.data).get("holidays", []),
                }
                for h in schedules.schedule_history(session, actor=actor)
            ]
    return render(request, "admin.html", ctx, status_code=status_code, actor=actor)


def _template_view(rt: Any, template: dict[str, Any], lang: str) -> dict[str, Any]:
    """A reply template as people read it: its category by name (all categories when it has none)."""
    out = dict(template)
    out["category_name"] = staff.category_name(rt, template.get("category"), lang)
    return out


def _deleted_rules(rt: Any, session: Any, actor: Any, lang: str, live: set[int]) -> list[dict[str, Any]]:
    """Deleted rules, newest first, each restorable once (a restored rule comes back as a new one)."""
    out = []
    for rev, snapshot in catalogue.deleted_rules(session, actor=actor, live=live):
        view = _rule_view(rt, snapshot, lang)
        view.update(revision_id=rev.id, deleted_at=rev.at, deleted_by=rev.actor)
        out.append(view)
    return out


@router.get("/admin")
def admin(request: Request, tab: str = "departments") -> Response:
    return _page(request, tab)


@router.get("/admin/calendar/template.csv")
def calendar_template(request: Request) -> Response:
    require_actor(request, *READ_CONFIG_ROLES)
    lang = lang_of(request)
    body = "\ufeff" + TEMPLATE_CSV["en" if lang == "en" else "zh"]  # BOM: Excel opens it as UTF-8
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="calendar-template.csv"'},
    )


def _save(request: Request, tab: str, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *ADMIN_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean({k: v for k, v in form.items() if isinstance(v, str)})
    try:
        if tab == "calendar" and values.get("op", "preview") == "preview":
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Invalid("no file", fields={"file": forms.check_required({}, ["file"], lang)["file"]})
            return _preview(request, actor, upload.file.read(), upload.filename, lang)
        if (
            tab == "calendar"
            and values.get("op") == "save"
            and values.get("dropped")
            and values.get("confirm_dropped") != "yes"
        ):  # the new file drops whole holidays: not saved until the admin ticks that it means it
            err = {"confirm_dropped": i18n.translate("calendar_confirm_dropped_err", lang)}
            content = str(form.get("content") or "").encode("utf-8")
            return _preview(request, actor, content, values.get("filename"), lang, errors=err)
        with rt.db.write() as session:
            done = _apply(session, rt, actor, tab, values, form, lang)
        rt.invalidate()
        rt.actors.clear()  # a disabled account or a new password takes effect in this process at once
    except (Invalid, Conflict, NotFound) as exc:
        errors = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        return _page(
            request, tab, errors=errors, values=values, message=exc.message, status_code=exc.status_code
        )
    if isinstance(done, open311_keys.IssuedKey):  # shown once: no redirect that would lose it
        return _page(request, tab, issued_key=done.api_key, status_code=201)
    return redirect(f"/admin?tab={tab}", **({"restored": "1"} if done == "restored" else {"saved": "1"}))


def _preview(
    request: Request,
    actor: Any,
    raw: bytes,
    filename: str | None,
    lang: str,
    *,
    errors: dict[str, str] | None = None,
) -> Response:
    """A calendar upload, parsed and compared with the year in force; nothing is saved yet."""
    rt = runtime(request)
    with rt.db.read() as session:
        preview = schedules.preview_schedule(
            session, actor=actor, content=raw, filename=filename, in_force=rt.calendar
        )
        preview["affected_orders"] = calendar_impact.affected_orders(
            session, preview, tz=rt.settings.tz, now=utcnow()
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    preview.update(content=text, filename=filename or "")
    return _page(request, "calendar", preview=preview, errors=errors, status_code=422 if errors else 200)


def _apply(
    session: Any, rt: Any, actor: Any, tab: str, values: dict[str, str], form: dict[str, Any], lang: str
) -> Any:
    """One admin form: parse it, then call the service (which checks the role and the rules). Returns
    what the page must show once (an issued Open311 key), "restored" after a restore, else "saved"."""
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
        op = values.get("op")
        if op == "delete":
            catalogue.delete_rule(session, rule_id=_int(values.get("rule_id")), actor=actor)
        elif op == "restore":
            catalogue.restore_rule(
                session, revision_id=_int(values.get("revision_id")), directory=rt.directory, actor=actor
            )
            return "restored"
        else:
            missing = forms.check_required(values, ["name", "outcome"], lang)
            if values.get("outcome") == "transfer":
                missing.update(forms.check_required(values, ["transfer_target"], lang))
            if missing:
                raise Invalid("required", fields=missing)
            data = {
                k: values[k]
                for k in ("name", "outcome", "department_code", "transfer_target", "guidance", "position")
                if k in values
            }
            if data.get("outcome") != "dispatch":
                data.pop("department_code", None)
            if data.get("outcome") != "transfer":
                data.pop("transfer_target", None)
            data["keywords"] = [
                k for k in values.get("keywords", "").replace("，", ",").split(",") if k.strip()
            ]
            rule = forms.build(RuleIn, data)
            catalogue.create_rule(session, data=rule, directory=rt.directory, actor=actor)  # type: ignore[arg-type]
    elif tab == "templates":
        op = values.get("op")
        if op == "delete":
            templates.delete_template(session, template_id=_int(values.get("template_id")), actor=actor)
        elif op == "restore":
            templates.restore_template(
                session, revision_id=_int(values.get("revision_id")), directory=rt.directory, actor=actor
            )
            return "restored"
        else:
            missing = forms.check_required(values, ["title", "body"], lang)
            if missing:
                raise Invalid("required", fields=missing)
            data = forms.build(
                templates.ReplyTemplateIn,
                {k: values[k] for k in ("title", "body", "category") if values.get(k)},
            )
            if values.get("id"):
                templates.update_template(
                    session, template_id=_int(values["id"]), data=data, directory=rt.directory, actor=actor
                )
            else:
                templates.create_template(session, data=data, directory=rt.directory, actor=actor)
    elif tab == "sla":
        keys = ("order_type", "urgency", "sign_amount", "sign_unit", "handle_amount", "handle_unit")
        missing = forms.check_required(values, list(keys), lang)
        if missing:
            raise Invalid("required", fields=missing)
        sla.set_rule(
            session, actor=actor, **forms.build(SlaRuleIn, {k: values[k] for k in keys}).model_dump()
        )
    elif tab == "calendar":
        op = values.get("op")
        if op == "save":  # the previewed file, confirmed (dropped holidays were ticked in _save)
            content = str(form.get("content") or "")
            schedules.save_schedule(session, actor=actor, content=content, filename=values.get("filename"))
        elif op == "delete":
            schedules.delete_schedule(session, actor=actor, year=_int(values.get("year")))
        elif op == "restore":
            schedules.restore_schedule(session, actor=actor, revision_id=_int(values.get("revision_id")))
            return "restored"
        else:
            raise NotFound(f"no calendar operation {op!r}")
    elif tab == "open311":
        if values.get("op") == "revoke":
            open311_keys.revoke_key(session, actor=actor, ref=values.get("client_id", ""))
            return "saved"
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
    return "saved"


def _int(value: str | None) -> int:
    try:
        return int(value or "0")
    except ValueError:
        raise NotFound(f"no item {value!r}") from None


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
