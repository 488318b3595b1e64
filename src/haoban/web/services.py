"""办事 pages for everyone (no login): search the service catalogue, browse it by department or life
event, read an item's guide (办事指南), see the catalogue's figures; verify an electronic licence."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from haoban.applications import registry, single
from haoban.catalog import service as catalog
from haoban.catalog.api import catalog_index
from haoban.catalog.models import ServiceItem
from haoban.catalog.search import search as search_items
from haoban.directory.models import Department
from haoban.errors import Invalid
from haoban.licences import service as licences
from haoban.web.common import PageRoute, lang_of, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 30


def fen(value: int, lang: str) -> str:
    if not value:
        return "免费" if lang == "zh" else "Free of charge"
    return f"¥{value / 100:.2f}".replace(".00", "")


def _departments(session: Any, lang: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Department.code, Department.name, Department.name_en, func.count(ServiceItem.id))
        .join(ServiceItem, ServiceItem.department_id == Department.id)
        .where(ServiceItem.active.is_(True))
        .group_by(Department.code, Department.name, Department.name_en)
        .order_by(func.count(ServiceItem.id).desc(), Department.code)
    ).all()
    return [{"code": c, "name": (en or n) if lang == "en" else n, "items": count} for c, n, en, count in rows]


@router.get("/services")
def services_home(request: Request) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    qp = request.query_params
    q = (qp.get("q") or "").strip()[:100]
    department = (qp.get("department") or "").strip()[:40]
    event = (qp.get("event") or "").strip()[:40]
    try:
        page = max(1, min(int(qp.get("page") or 1), 1000))
    except ValueError:
        page = 1
    ctx: dict[str, Any] = {"q": q, "department": department, "event": event, "page": page, "error": None}
    with rt.db.read() as session:
        ctx["departments"] = _departments(session, lang)
        ctx["events"] = catalog.life_events(session)
        ctx["metrics"] = catalog.metrics(session)
        items: list[dict[str, Any]] = []
        total = 0
        if q:
            try:
                hits = search_items(
                    session, index=catalog_index(rt), q=q, department=department or None, limit=PAGE_SIZE
                )
            except Invalid as exc:
                ctx["error"] = exc.message
                hits = []
            items = [{**catalog.item_summary(i, lang), "snippet": snip} for i, _score, snip in hits]
            total = len(items)
        elif department or event:
            rows, total = catalog.list_items(
                session,
                department=department or None,
                life_event=event or None,
                page=page,
                page_size=PAGE_SIZE,
            )
            items = [catalog.item_summary(i, lang) for i in rows]
    ctx.update(
        items=items,
        total=total,
        browsing=bool(q or department or event),
        pages=max(1, -(-total // PAGE_SIZE)),
        department_name=next((d["name"] for d in ctx["departments"] if d["code"] == department), department),
    )
    return render(request, "services_home.html", ctx)


@router.get("/services/items/{code}")
def service_guide(request: Request, code: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        item = catalog.get_item(session, code=code[:80])
        view = catalog.item_view(item, lang)
        # The names of the licences that stand in for the held materials (免提交: 出生医学证明 …).
        kinds = {m["licence_kind"] for m in view["materials"] if m["licence_kind"]}
        names = dict(
            session.execute(
                select(ServiceItem.code, func.coalesce(ServiceItem.result_name, ServiceItem.name)).where(
                    ServiceItem.code.in_(kinds)
                )
            ).all()
        )
        bundles = bundles_with_item(session, rt, code=view["code"], lang=lang)
    return render(
        request,
        "services_item.html",
        {"i": view, "licence_names": names, "fee": fen(view["fee_fen"], lang), "bundles": bundles},
    )


def bundles_with_item(session: Any, rt: Any, *, code: str, lang: str) -> list[dict[str, str]]:
    """The “一件事” bundles one of whose tasks is this item (办这件事 on its guide)."""
    out = []
    for row in registry.latest_rows(session):
        if single.is_single(row.code):
            continue
        d = registry.definition_of(rt, row)
        if any(t.item == code for t in d.tasks.values()):
            out.append({"code": d.code, "name": (d.name_en or d.name) if lang == "en" else d.name})
    return out


@router.get("/services/metrics")
def services_metrics(request: Request) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        m = catalog.metrics(session)
        lm = licences.metrics(session)
    return render(request, "services_metrics.html", {"m": m, "lm": lm})


def _verify(request: Request, code: str) -> Response:
    rt = runtime(request)
    code = code.strip()[:40]
    result = None
    if code:
        with rt.db.read() as session:
            result = licences.verify(session, code=code)
    status = 404 if result and result["status"] == "unknown" else 200
    return render(request, "licence_verify.html", {"code": code, "r": result}, status_code=status)


@router.get("/verify")
def verify_form(request: Request) -> Response:
    return _verify(request, request.query_params.get("code") or "")


@router.get("/verify/{code}")
def verify_code(request: Request, code: str) -> Response:
    return _verify(request, code)
