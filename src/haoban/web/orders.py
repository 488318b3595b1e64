"""The order page (details, case-file timeline, action forms) and the department inbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.auth.actors import Actor
from haoban.auth.roles import STAFF_ROLES, Role
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.federation.service import CASE_ROLES
from haoban.federation.transfers import links as transfer_links
from haoban.orders import access, attachments, pii, presenters, queries, reply_templates
from haoban.orders.actions import apply_action
from haoban.orders.schemas import ActionRequest
from haoban.orders.workflow import HANDLING_STATUSES
from haoban.web import forms, i18n, messages, panels, staff, uploads
from haoban.web.application_staff import inbox_tasks
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HANDLING = {s.value for s in HANDLING_STATUSES}

INBOX_TABS: dict[str, tuple[list[str] | None, bool | None]] = {
    # tab → (statuses, overdue)
    "to_sign": (["dispatched"], None),
    "handling": (["signed"], None),
    "replied": (["replied"], None),
    "returned": (["return_requested"], None),
    "overdue": (None, True),
    "all": ([s.value for s in HANDLING_STATUSES] + ["callback", "closed", "archived"], None),
}
# Tabs of every order a department ever had (1.3 M at the biggest department of 10 million orders):
# newest first, page after page by cursor, the total counted up to queries.TOTAL_CAP. Sorting and
# counting them all most-urgent-first took 21.9 s; the other tabs hold open orders only.
LONG_TABS = frozenset({"all"})


def tab_totals(counts: queries.InboxCounts) -> dict[str, int]:
    """The count shown on each tab of open orders (from the one counting query of the page)."""
    out = {}
    for tab, (statuses, overdue) in INBOX_TABS.items():
        if tab not in LONG_TABS:
            out[tab] = counts.overdue if overdue else sum(counts.by_status.get(s, 0) for s in statuses or ())
    return out


def inbox_page(
    session: Any,
    rt: Any,
    actor: Actor,
    *,
    tab: str,
    page: int,
    cursor: str | None,
    now: Any,
    totals: dict[str, int],
) -> queries.OrderPage:
    """The orders of one inbox tab, as ``/inbox`` shows them (``tab`` one of ``INBOX_TABS``; ``totals``
    from ``tab_totals``: a tab of open orders is not counted again)."""
    statuses, overdue = INBOX_TABS[tab]
    filters = queries.OrderFilter(status=statuses, overdue=overdue)
    if tab in LONG_TABS:
        return queries.page_orders(session, rt, actor=actor, filters=filters, cursor=cursor, now=now)
    rows, total = queries.list_orders(
        session,
        rt,
        actor=actor,
        filters=filters,
        page=page,
        page_size=20,
        now=now,
        order="urgent",  # overdue and 督办 first, then the nearest handling deadline
        total=totals[tab],
    )
    return queries.OrderPage(rows, total, True, None)


def inbox_orders(
    session: Any, rt: Any, actor: Actor, *, tab: str, page: int, cursor: str | None, now: Any
) -> tuple[queries.OrderPage, dict[str, int], str | None]:
    """What ``/inbox`` reads of orders: one tab's page, the counts of the tabs of open orders (one
    query) and the cursor used (None when a mangled one fell back to the tab's first page)."""
    totals = tab_totals(queries.inbox_counts(session, actor=actor, now=now))
    try:
        found = inbox_page(session, rt, actor, tab=tab, page=page, cursor=cursor, now=now, totals=totals)
    except Invalid:  # a cursor mangled in the address bar: the tab's first page
        found = inbox_page(session, rt, actor, tab=tab, page=1, cursor=None, now=now, totals=totals)
        cursor = None
    return found, totals, cursor


# Pages whose forms post to an order's action with back= and show a failure beside the item.
INLINE_ERROR_PAGES = ("/board", "/inbox", "/console/queue")
# Actions whose form may carry the handler's photos (shown to the citizen with the approved reply).
PHOTO_ACTIONS = ("reply",)


def done_message(request: Request, lang: str) -> str | None:
    """The confirmation after an action, naming the decision (approve and reject read differently)."""
    q = request.query_params
    done, decision = q.get("done"), q.get("decision")
    if not done:
        return None
    key = f"done_{done}_{decision}" if decision else f"done_{done}"
    text = i18n.translate(key, lang)
    return None if text == key else text


def localized_score(score: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A reply score with its reasons in the page's language (the scorer writes them in both)."""
    if not score:
        return score
    return {**score, "reasons": [messages.localize(r, lang) for r in score.get("reasons") or []]}


def failure(request: Request) -> dict[str, str] | None:
    """The failed action a list page was sent back with (see ``_act``)."""
    q = request.query_params
    if not q.get("failed"):
        return None
    return {k: q.get(k) or "" for k in ("failed", "code", "field", "error")}


def bulk_apply(
    rt: Any, actor: Actor, codes: list[str], action: str, data: Any, lang: str
) -> tuple[list[str], list[str]]:
    """One action on several orders, each in its own transaction through the gate; returns the codes
    done and "code: why" for the ones refused (in the page's language)."""
    done: list[str] = []
    failed: list[str] = []
    for code in dict.fromkeys(codes):  # each once, in the order ticked
        try:
            with rt.db.write() as session:
                apply_action(session, rt, code=code, action=action, data=data, actor=actor)
            done.append(code)
        except (Invalid, Conflict, Forbidden, NotFound) as exc:
            fields = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
            why = next(iter(fields.values()), exc.message)
            failed.append(f"{code}: {messages.localize(why, lang)}")
    return done, failed


def directory_choices(rt: Any) -> dict[str, Any]:
    """Departments, districts and top categories for select boxes."""
    d = rt.directory
    departments = sorted(
        (x for x in d.departments_by_id.values() if x.active), key=lambda x: (x.kind, x.code)
    )
    districts = sorted(d.districts_by_id.values(), key=lambda x: x.code)
    categories = sorted(d.categories_by_id.values(), key=lambda c: c.path)
    return {"departments": departments, "districts": districts, "categories": categories}


def order_context(
    request: Request,
    *,
    code: str,
    actor: Actor,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    rt = runtime(request)
    with rt.db.read() as session:
        order = access.get_order(session, code=code, actor=actor)
        detail = presenters.order_detail(order, rt, actor=actor)
        shown, order_id = pii.shows_personal_data(order, actor), order.id
        events = [presenters.event_view(e) for e in queries.order_events(session, code=code, actor=actor)]
        similar = panels.similar_orders(session, rt, code=code, actor=actor)
        score = panels.reply_score(session, code=code, actor=actor) if detail.get("reply") else None
        photos = [attachments.view(a) for a in attachments.list_for(session, order_id=order.id)]
        transfer = transfer_links(session, [order.code]).get(order.code)  # 跨区域转办: the other side
        templates = (
            reply_templates.templates_for_order(session, order=order, tz=rt.settings.tz)
            if "reply" in detail["allowed_actions"]
            else []
        )
    if shown:  # the page shows the citizen's personal data: recorded like the API's views
        with rt.db.write() as session:
            pii.record_view(session, order_id=order_id, actor=actor, purpose=None, via="web")
    return {
        "o": detail,
        "dept_names": {d.code: d.name for d in rt.directory.departments_by_id.values()},
        "events": events,
        "fields": forms.ACTION_FIELDS,
        "one_click": forms.ONE_CLICK,
        "required": {a: forms.required_fields(a) for a in detail["allowed_actions"]},
        "errors": errors or {},
        "values": values or {},
        "message": message,
        "similar": similar,
        "score": localized_score(score, lang_of(request)),
        "photos": photos,
        "transfer": transfer,
        "transfer_case": transfer is not None and actor.role in CASE_ROLES,
        "done": request.query_params.get("done"),
        "done_message": done_message(request, lang_of(request)),
        "localize": messages.localizer(lang_of(request)),
        "source_label": lambda src: i18n.translate(f"dispatch_source_{src}", lang_of(request)),
        "dept_label": lambda code: staff.dept_name(rt, code, lang_of(request)),
        "district_label": staff.district_name(rt, detail.get("district"), lang_of(request)),
        "reply_templates": [
            {**x, "category_name": staff.category_short(rt, x["category"], lang_of(request))}
            for x in templates
        ],
        "back": safe_next(request.query_params.get("back"), ""),
        **directory_choices(rt),
    }


@router.get("/orders/{code}")
def order_page(request: Request, code: str) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    return render(request, "order.html", order_context(request, code=code, actor=actor), actor=actor)


def _act(
    request: Request,
    code: str,
    action: str,
    form: dict[str, Any],
    files: list[tuple[str, bytes]] | None = None,
) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    back = safe_next(str(form.get("back") or ""), "")
    try:
        data = forms.action_request(action, form, lang)
        shots = uploads.clean_all(files, lang) if files else []  # checked before anything is written
        with rt.db.write() as session:
            apply_action(session, rt, code=code, action=action, data=data, actor=actor)
            if shots:  # the reply's photos: the citizen sees them with the approved reply
                order_id = access.get_order(session, code=code, actor=actor).id
                for photo in shots:
                    attachments.add(
                        session,
                        order_id=order_id,
                        photo=photo,
                        origin="staff",
                        uploaded_by=actor.name,
                        public=True,
                    )
    except (Invalid, Conflict, Forbidden) as exc:
        if back and back.split("?")[0] in INLINE_ERROR_PAGES:
            # A list page (board, inbox, queue) shows the error beside the item it belongs to.
            fields = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
            field, text = next(iter(fields.items()), ("", exc.message))
            text = messages.localize(text, lang)
            return redirect(back, failed=action, code=code, field=field, error=text)
        fields = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        errors = {action: {k: messages.localize(v, lang) for k, v in fields.items()}} if fields else {}
        ctx = order_context(
            request,
            code=code,
            actor=actor,
            errors=errors,
            values={action: forms.clean(form)},
            message=messages.localize(exc.message, lang),
        )
        status = exc.status_code
        return render(request, "order.html", ctx, status_code=status, actor=actor)
    decision = str(data.decision or "") if getattr(data, "decision", None) else ""
    extra = {"decision": decision} if decision else {}
    if back:
        return redirect(back, done=action, code=code, **extra)
    return redirect(f"/orders/{code}", done=action, **extra)


@router.post("/orders/{code}/act/{action}")
async def order_action(request: Request, code: str, action: str) -> Response:
    raw = await request.form()
    files = await uploads.read_photos(raw) if action in PHOTO_ACTIONS else []
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    return await run_in_threadpool(_act, request, code, action, form, files)


@router.get("/inbox")
def inbox(
    request: Request, tab: str = "to_sign", page: int = 1, tpage: int = 1, after: str | None = None
) -> Response:
    actor = require_actor(request, Role.HANDLER)
    rt = runtime(request)
    if tab not in INBOX_TABS:
        tab = "to_sign"
    page = max(1, min(page, 100_000))
    cursor = after if tab in LONG_TABS and after else None
    now = utcnow()
    with rt.db.read() as session:
        found, tab_counts, cursor = inbox_orders(
            session, rt, actor, tab=tab, page=page, cursor=cursor, now=now
        )
        items = [presenters.order_summary(o, rt, now=now) for o in found.rows]
        total = found.total
    lang = lang_of(request)
    for item in items:
        handle = item["deadlines"]["handle"]
        replied_in_time = item["status"] == "replied" and handle["state"] == "on_time"
        finished = item["status"] not in HANDLING or replied_in_time
        item["due_text"] = staff.due_text(handle["at"], now, lang, done=finished)
        item["department_label"] = staff.dept_name(rt, item["department"], lang)
    dept = rt.directory.departments_by_id.get(actor.department_id or -1)
    tpage = max(1, min(tpage, 100_000))
    bundle_tasks, bundle_total, tpages, templates = inbox_tasks(rt, actor, lang, page=tpage)
    return render(
        request,
        "inbox.html",
        {
            "bundle_tasks": bundle_tasks,
            "bundle_total": bundle_total,
            "tpage": tpage,
            "tpages": tpages,
            "bulk_templates": templates,
            "bt_done": request.query_params.get("bt_done"),
            "bt_action": request.query_params.get("bt_action"),
            "bt_failed": request.query_params.get("bt_failed"),
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // 20)),
            "long_tab": tab in LONG_TABS,
            "total_text": i18n.translate(
                "list_total" if found.total_exact else "list_total_more", lang
            ).format(n=f"{total:,}"),
            "after": cursor,
            "next_cursor": found.next_cursor,
            "tab": tab,
            "tabs": list(INBOX_TABS),
            "tab_counts": tab_counts,
            "dept": dept,
            "dept_title": staff.dept_name(rt, dept.code, lang) if dept else "",
            "done": request.query_params.get("done"),
            "done_code": request.query_params.get("code"),
            "done_message": done_message(request, lang),
            "failure": failure(request),
            "bulk_done": [c for c in (request.query_params.get("bulk_done") or "").split(",") if c],
            "bulk_failed": [c for c in (request.query_params.get("bulk_failed") or "").split(";") if c],
        },
        actor=actor,
    )


def _bulk_sign(request: Request, form: Any) -> Response:
    """Sign the ticked orders of the inbox at once (each through the gate, each on its own)."""
    actor = require_actor(request, Role.HANDLER)
    rt = runtime(request)
    lang = lang_of(request)
    codes = [c for c in form.getlist("codes") if isinstance(c, str) and c.strip()][:100]
    if not codes:
        return redirect("/inbox?tab=to_sign", bulk_failed=i18n.translate("bulk_missing_codes", lang))
    done, failed = bulk_apply(rt, actor, codes, "sign", ActionRequest(), lang)
    return redirect("/inbox?tab=to_sign", bulk_done=",".join(done), bulk_failed=";".join(failed))


@router.post("/inbox/bulk_sign")
async def bulk_sign(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_bulk_sign, request, form)
