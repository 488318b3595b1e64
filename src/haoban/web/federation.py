"""Federation pages: cross-region cases per partner and mode (跨省通办 and 12345 transfers) with their
timelines, and the admin's partners, agreements, outbox and refusals.

Presentation only: each form calls the service the admin API calls, which checks roles and fields.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from haoban.applications.service import Applicant
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.errors import Conflict, Invalid, NotFound
from haoban.federation import crossregion, service
from haoban.federation.models import CrossCase
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CASE_ROLES = service.CASE_ROLES


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
        {
            "board": board,
            "totals": service.mode_totals(board),
            "cases": cases,
            "identity": service.identity(rt.settings),
            "modes": service.MODES,
        },
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
    ctx = {"case": view, "modes": service.MODES, "sent": request.query_params.get("sent")}
    return render(request, "federation_case.html", ctx, actor=actor)


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


# --- 跨省通办: the receiving window sends a file ------------------------------------------------------

MATERIAL_ROWS = 4


def _send_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    actor = require_actor(request, *service.SEND_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        partners = [p for p in service.list_partners(session, actor=SYSTEM_ACTOR) if p["active"]]
    ctx = {
        "partners": partners,
        "file_modes": crossregion.FILE_MODES,
        "modes": service.MODES,
        "rows": range(MATERIAL_ROWS),
        "errors": errors or {},
        "values": values or {},
        "message": message,
    }
    return render(request, "federation_send.html", ctx, status_code=status_code, actor=actor)


@router.get("/federation/send")
def send_page(request: Request) -> Response:
    return _send_page(request)


async def _read_materials(form: Any) -> dict[str, tuple[str, bytes]]:
    materials: dict[str, tuple[str, bytes]] = {}
    for n in range(MATERIAL_ROWS):
        key = str(form.get(f"key_{n}") or "").strip()
        upload = form.get(f"file_{n}")
        if key and isinstance(upload, UploadFile) and upload.filename:
            materials[key] = (upload.filename, await upload.read())
    return materials


def _send(request: Request, values: dict[str, str], materials: dict[str, tuple[str, bytes]]) -> Response:
    actor = require_actor(request, *service.SEND_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    try:
        missing = forms.check_required(values, ["partner", "bundle", "name", "phone"], lang)
        if missing:
            raise Invalid("required", fields=missing)
        try:
            form = json.loads(values.get("form") or "{}")
        except ValueError as exc:
            raise Invalid("the form is not JSON", fields={"form": f"JSON: {exc}"}) from None
        if not isinstance(form, dict):
            raise Invalid("the form is a JSON object", fields={"form": "{...}"})
        with rt.db.write() as session:
            case = crossregion.send_file(
                session,
                rt,
                partner_region=values["partner"],
                mode=values.get("mode", "proxy"),
                bundle=values["bundle"],
                form=form,
                applicant=Applicant(
                    name=values["name"], phone=values["phone"], id_number=values.get("id_number") or None
                ),
                materials=materials,
                identity_checked=values.get("identity_checked") == "on",
                actor=actor,
                note=values.get("note", ""),
            )
            key = case.case_key
    except (Invalid, NotFound) as exc:
        errors = exc.detail.get("fields", {}) if isinstance(exc, Invalid) else {"partner": exc.message}
        return _send_page(
            request, errors=errors, values=values, message=exc.message, status_code=exc.status_code
        )
    return redirect(f"/federation/cases/{key}", sent="1")


@router.post("/federation/send")
async def send(request: Request) -> Response:
    form = await request.form()
    values = forms.clean({k: v for k, v in form.items() if isinstance(v, str)})
    materials = await _read_materials(form)
    return await run_in_threadpool(_send, request, values, materials)
