"""全程网办 in the citizen portal (no login): a resident here applies online for an item of a partner
region — pick the partner and an item an agreement in force offers online, fill the item's one form,
upload the materials — and follows one timeline, the home region's steps coming back here.

Thin: ``haoban.federation.crossregion`` checks the form (as the home region will), files it through the
outbox and keeps the timeline; the form and the uploads are the portal's own (``web.applications``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.applications.materials import Upload
from haoban.applications.service import Applicant
from haoban.bundles.definitions import Definition
from haoban.deps import client_address
from haoban.errors import Invalid, NotFound
from haoban.federation import crossregion, service
from haoban.orders.citizen import phone_last4
from haoban.ratelimit import check_rate
from haoban.web import schema_form
from haoban.web.applications import field_errors, first, form_context, read_posted
from haoban.web.common import PageRoute, lang_of, redirect, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/portal/elsewhere"

# The home region's steps as the applicant reads them (zh, en); ``{task}`` is the item's name.
STEP_WORDS: dict[str, tuple[str, str]] = {
    "received": ("已在本地网上提交，正在发往{home}", "Submitted online here; on its way to {home}"),
    "accepted": ("{home}已受理，办件编号 {code}", "Accepted by {home}, application {code}"),
    "ready": ("“{task}”已派发至{home}的承办部门", "{task}: sent to the department in {home}"),
    "accept": ("{home}已受理“{task}”", "{task}: accepted in {home}"),
    "accept_tolerated": ("{home}已容缺受理“{task}”", "{task}: accepted in {home}; a material to follow"),
    "request_correction": ("“{task}”需要补正，请联系{home}", "{task}: corrections needed; contact {home}"),
    "resubmit": ("已补正并重新提交", "Corrections resubmitted"),
    "resume": ("“{task}”补正后继续办理", "{task}: back in progress"),
    "approve": ("“{task}”已办结", "{task}: approved"),
    "reject": ("“{task}”不予办理", "{task}: refused"),
    "skip": ("“{task}”因前序事项未通过而无法办理", "{task}: cannot proceed"),
    "delivery_prepared": ("办理结果统一出件", "Results ready for delivery"),
    "delivery_posted": (
        "结果已由{home}寄出，运单号 {tracking_no}",
        "Results posted by {home}, tracking {tracking_no}",
    ),
    "handed_over": ("结果已领取", "Results collected"),
    "withdraw": ("申请已撤回", "Application withdrawn"),
    "task": ("全部事项办理完毕", "All items finished"),
}


def _step_text(step: Mapping[str, Any], home: str, lang: str) -> str:
    words = STEP_WORDS.get(step["what"])
    if words is None:
        return step["what"]
    task = (
        (step.get("task_name_en") or step.get("task_name") or "")
        if lang == "en"
        else step.get("task_name", "")
    )
    text = words[1] if lang == "en" else words[0]
    return text.format(
        home=home, task=task or "", code=step.get("code", ""), tracking_no=step.get("tracking_no", "")
    )


def case_url(case_key: str, phone: str) -> str:
    return f"{BASE}/cases/{quote(case_key)}?p={phone_last4(phone)}"


@router.get(BASE)
def offers(request: Request) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        partners = crossregion.online_offers(session, rt, lang=lang_of(request))
    ctx = {"partners": partners, "mode": service.MODES["online"], "missing": False, "key": ""}
    return render(request, "fed_portal_offers.html", ctx, actor=None)


def _definition(request: Request, region: str, item: str) -> tuple[Definition, str]:
    rt = runtime(request)
    with rt.db.read() as session:
        definition = crossregion.online_definition(session, rt, partner_region=region[:12], item=item[:80])
        partner = service.get_partner(session, region[:12])
        return definition, partner.name


def _apply_page(
    request: Request,
    region: str,
    item: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    rt = runtime(request)
    definition, home = _definition(request, region, item)
    ctx = form_context(rt, definition, lang_of(request))
    ctx.update(
        values=dict(values or {}),
        errors=dict(errors or {}),
        message=message,
        action=f"{BASE}/apply/{quote(region)}/{quote(item)}",
        home=home,
        region=region,
        mode=service.MODES["online"],
    )
    return render(request, "fed_portal_apply.html", ctx, status_code=status_code, actor=None)


@router.get(BASE + "/apply/{region}/{item}")
def apply_form(request: Request, region: str, item: str) -> Response:
    return _apply_page(request, region, item)


def _apply(
    request: Request, region: str, item: str, posted: dict[str, list[str]], uploads: dict[str, Upload]
) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    definition, _home = _definition(request, region, item)
    values = {k: (v if len(v) > 1 else v[0]) for k, v in posted.items() if k != "csrf_token"}
    check_rate(
        rt.db,
        scope="federation_online",
        client=client_address(request),
        limit=rt.settings.track_rate_per_minute,
    )
    try:
        form = schema_form.parse(definition.form_schema, posted, rt.settings.tz)
        applicant = Applicant(
            first(posted, "applicant_name"),
            first(posted, "applicant_phone"),
            first(posted, "applicant_id_number") or None,
        )
        with rt.db.write() as session:
            case = crossregion.apply_online(
                session, rt, partner_region=region, item=item[:80], form=form, applicant=applicant,
                uploads=uploads,
            )  # fmt: skip
            key = case.case_key
        phone = "".join(c for c in applicant.phone if c.isdigit())
    except Invalid as exc:
        msg = exc.detail.get("message_zh") if lang == "zh" else exc.message
        return _apply_page(
            request,
            region,
            item,
            values=values,
            errors=field_errors(exc, lang),
            message=msg or exc.message,
            status_code=422,
        )
    return redirect(case_url(key, phone), new="1")


@router.post(BASE + "/apply/{region}/{item}")
async def apply(request: Request, region: str, item: str) -> Response:
    posted, uploads = await read_posted(request)
    return await run_in_threadpool(_apply, request, region, item, posted, uploads)


def _lookup_page(request: Request, key: str, *, missing: bool, status_code: int) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        partners = crossregion.online_offers(session, rt, lang=lang_of(request))
    ctx = {"partners": partners, "mode": service.MODES["online"], "missing": missing, "key": key}
    return render(request, "fed_portal_offers.html", ctx, actor=None, status_code=status_code)


@router.get(BASE + "/cases/{case_key}")
def case_timeline(request: Request, case_key: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    last4 = (request.query_params.get("p") or "").strip()
    if not (len(last4) == 4 and last4.isdigit()):
        return _lookup_page(request, case_key[:80], missing=False, status_code=200)
    check_rate(
        rt.db,
        scope="federation_track",
        client=client_address(request),
        limit=rt.settings.track_rate_per_minute,
    )
    try:
        with rt.db.read() as session:
            view = crossregion.track(session, case_key=case_key[:80], phone_last4=last4)
            d = crossregion.form_definition(session, rt, view["item"])
            if d is not None:
                view["item_name"] = (d.name_en or d.name) if lang == "en" else d.name
    except NotFound:
        return _lookup_page(request, case_key[:80], missing=True, status_code=404)
    for step in view["steps"]:
        step["text"] = _step_text(step, view["home"], lang)
    mode = service.MODES.get(view["mode"], (view["mode"], view["mode"]))
    ctx = {
        "c": view,
        "mode_label": mode[1] if lang == "en" else mode[0],
        "new": request.query_params.get("new") == "1",
        "last4": last4,
    }
    return render(request, "fed_portal_case.html", ctx, actor=None)


@router.post(BASE + "/cases")
async def lookup(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("case_key") or "").strip()[:80]
    last4 = str(form.get("phone_last4") or "").strip()
    if not key or not (len(last4) == 4 and last4.isdigit()):
        return await run_in_threadpool(_lookup_page, request, key, missing=True, status_code=422)
    return redirect(f"{BASE}/cases/{quote(key)}", p=last4)
