"""Federation pages: cross-region cases per partner and mode (跨省通办 and 12345 transfers) with their
timelines, and the admin's partners, agreements, outbox and refusals.

Presentation only: each form calls the service the admin API calls, which checks roles and fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from haoban.auth.roles import ADMIN_ROLES, DASHBOARD_ROLES, READ_CONFIG_ROLES
from haoban.auth.roles import Role as R
from haoban.errors import Conflict, Invalid, NotFound
from haoban.federation import service
from haoban.federation.models import CrossCase
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CASE_ROLES = (*DASHBOARD_ROLES, R.WINDOW)


@router.get("/federation")
def cases_page(request: Request) -> Response:
    actor = require_actor(request, *CASE_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        board = service.dashboard(session, actor=actor)
        cases = service.list_cases(session, actor=actor, limit=50)
    return render(
        request,
        "federation.html",
        {"board": board, "cases": cases, "identity": service.identity(rt.settings), "modes": service.MODES},
        actor=actor,
    )


@router.get("/federation/cases/{case_key}")
def case_page(request: Request, case_key: str) -> Response:
    actor = require_actor(request, *CASE_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.case_key == case_key).order_by(CrossCase.id))
        if case is None:
            raise NotFound(f"no cross-region case {case_key!r}")
        view = service.case_view(session, case)
    return render(request, "federation_case.html", {"case": view, "modes": service.MODES}, actor=actor)


def _admin_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    actor = require_actor(request, *READ_CONFIG_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        ctx = {
            "identity": service.identity(rt.settings),
            "partners": service.list_partners(session, actor=actor),
            "outbox": service.list_outbox(session, actor=actor, limit=50),
            "refusals": service.list_refusals(session, actor=actor, limit=50),
            "modes": service.MODES,
            "can_edit": actor.role in ADMIN_ROLES,
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "saved": request.query_params.get("saved"),
        }
    return render(request, "federation_admin.html", ctx, status_code=status_code, actor=actor)


@router.get("/admin/federation")
def admin_page(request: Request) -> Response:
    return _admin_page(request)


def _save(request: Request, what: str, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *ADMIN_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean({k: v for k, v in form.items() if isinstance(v, str)})
    try:
        with rt.db.write() as session:
            if what == "partners":
                missing = forms.check_required(values, ["region", "name", "endpoint", "public_key"], lang)
                if missing:
                    raise Invalid("required", fields=missing)
                service.save_partner(
                    session,
                    actor=actor,
                    region=values["region"],
                    name=values["name"],
                    endpoint=values["endpoint"],
                    public_key=values["public_key"],
                    active=values.get("active", "on") == "on",
                    own_region=rt.settings.federation_region,
                )
            elif what == "agreements":
                missing = forms.check_required(values, ["partner", "items", "valid_from"], lang)
                if missing:
                    raise Invalid("required", fields=missing)
                try:
                    start = date.fromisoformat(values["valid_from"])
                    end = date.fromisoformat(values["valid_to"]) if values.get("valid_to") else None
                except ValueError:
                    raise Invalid("dates are YYYY-MM-DD", fields={"valid_from": "YYYY-MM-DD"}) from None
                service.add_agreement(
                    session,
                    actor=actor,
                    partner=values["partner"],
                    items=values["items"].replace("，", ",").split(","),
                    modes=[m for m in service.MODES if form.get(f"mode_{m}")],
                    valid_from=start,
                    valid_to=end,
                    note=values.get("note", ""),
                )
            elif what == "retry":
                service.retry_outbox(session, actor=actor, entry_id=int(values.get("entry_id", "0") or 0))
            else:
                raise NotFound(f"no federation form {what!r}")
    except (Invalid, Conflict, NotFound) as exc:
        errors = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {}
        return _admin_page(
            request, errors=errors, values=values, message=exc.message, status_code=exc.status_code
        )
    return redirect("/admin/federation", saved="1")


@router.post("/admin/federation/{what}")
async def save(request: Request, what: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_save, request, what, form)
