"""Work-order endpoints: thin — parse, authorise, call the service, shape the answer."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from haoban.auth import rbac
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import RateLimited
from haoban.orders import service
from haoban.orders.bulk import EXPORT_COLUMNS, export_row
from haoban.orders.intake import CreatedOrder, create_order, prepare_order
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.orders.workflow import STATUS_LABELS, TRANSITIONS
from haoban.ratelimit import RateLimiter

router = APIRouter(prefix="/api/v1", tags=["orders"])


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status_code, media_type="application/json")


def _created_view(rt: Any, created: CreatedOrder) -> dict[str, Any]:
    row = created.row
    directory = rt.directory
    dept = directory.departments_by_id.get(row.get("lead_department_id") or -1)
    cat = directory.categories_by_id.get(row.get("category_id") or -1)
    return {
        "code": created.code,
        "created": created.created,
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]][0] if row["status"] in STATUS_LABELS else row["status"],
        "category": cat.path if cat else None,
        "category_code": cat.code if cat else None,
        "department": dept.code if dept else None,
        "department_name": dept.name if dept else None,
        "deadlines": {
            "sign": {"at": row.get("sign_deadline")},
            "handle": {"at": row["handle_deadline"], "provisional": row["deadline_provisional"]},
        },
        "dispatch": {
            "source": row["dispatch_source"],
            "confidence": row["dispatch_confidence"],
            "rule_id": row["dispatch_rule_id"],
        },
    }


@router.post("/orders", status_code=201, summary="Register an appeal (受理) from any channel")
async def create(rt: RuntimeDep, actor: ActorDep, data: OrderCreate) -> Response:
    rbac.require_role(actor, *rbac.INTAKE_ROLES)
    prepared = prepare_order(rt, data=data, actor=actor)
    if rt.intake is not None:
        created = await rt.intake.submit(prepared)
    else:
        created = await run_in_threadpool(_create_sync, rt, data, actor)
    if not created.created:
        with rt.db.read() as session:
            order = service.get_order(session, code=created.code, actor=actor)
            return _json({**service.order_summary(order, rt), "created": False}, 200)
    return _json(_created_view(rt, created), 201)


def _create_sync(rt: Any, data: OrderCreate, actor: Any) -> CreatedOrder:
    with rt.db.write() as session:
        return create_order(session, rt, data=data, actor=actor)


@router.get("/orders", summary="List orders you may see, filtered and paginated")
def list_orders(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[list[str] | None, Query(description="repeat for several")] = None,
    department: str | None = None,
    district: str | None = None,
    category: str | None = None,
    type: str | None = None,
    channel: str | None = None,
    overdue: bool | None = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    filters = service.OrderFilter(
        status=status,
        department=department,
        district=district,
        category=category,
        order_type=type,
        channel=channel,
        overdue=overdue,
        text=text,
        received_from=received_from,
        received_to=received_to,
    )
    with rt.db.read() as session:
        rows, total = service.list_orders(
            session, rt, actor=actor, filters=filters, page=page, page_size=page_size
        )
        now = utcnow()
        items = [service.order_summary(o, rt, now=now) for o in rows]
    return _json({"items": items, "total": total, "page": page, "page_size": page_size})


@router.get("/orders/export", summary="Export orders you may see as CSV (personal data masked)")
def export(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[list[str] | None, Query()] = None,
    department: str | None = None,
    district: str | None = None,
) -> StreamingResponse:
    filters = service.OrderFilter(status=status, department=department, district=district)

    def rows() -> Any:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        yield "\ufeff" + buf.getvalue()
        with rt.db.read() as session:
            for order in service.iter_orders(session, rt, actor=actor, filters=filters):
                buf.seek(0)
                buf.truncate()
                writer.writerow(export_row(order))
                yield buf.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=orders.csv"},
    )


@router.get("/orders/{code}", summary="One order, with the actions you may take now")
def get_order(rt: RuntimeDep, actor: ActorDep, code: str) -> Response:
    with rt.db.read() as session:
        order = service.get_order(session, code=code, actor=actor)
        return _json(service.order_detail(order, rt, actor=actor))


@router.post("/orders/{code}/{action}", summary="Take an action on an order (see GET /api/v1/workflow)")
def act(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    action: str,
    data: Annotated[ActionRequest | None, Body()] = None,
) -> Response:
    data = data or ActionRequest()
    with rt.db.write() as session:
        order = service.apply_action(session, rt, code=code, action=action, data=data, actor=actor)
        code = order.code
    with rt.db.read() as session:
        order = service.get_order(session, code=code, actor=actor)
        return _json(service.order_detail(order, rt, actor=actor))


@router.get("/orders/{code}/events", summary="The order's case file (一事一档), hash-chained")
def events(rt: RuntimeDep, actor: ActorDep, code: str) -> Response:
    with rt.db.read() as session:
        return _json([service.event_view(e) for e in service.order_events(session, code=code, actor=actor)])


@router.get("/workflow", summary="The state table: actions, from which states, to which, by whom")
def workflow_table() -> dict[str, Any]:
    return {
        "statuses": {s.value: {"zh": zh, "en": en} for s, (zh, en) in STATUS_LABELS.items()},
        "actions": [
            {
                "action": t.action,
                "label": {"zh": t.label[0], "en": t.label[1]},
                "from": sorted(s.value for s in t.sources),
                "to": {str(k) if k else "": v.value for k, v in t.targets.items()}
                if t.action not in ("supervise", "request_extension", "decide_extension")
                else {"": "(unchanged)"},
                "roles": sorted(t.roles),
                "required": list(t.required),
                "decisions": list(t.decisions),
                "lead_department_only": t.lead_department_only,
                "description": t.description,
            }
            for t in TRANSITIONS
            if t.action != "follow_master"
        ],
    }


_track_limiter: RateLimiter | None = None


@router.get(
    "/track/{code}", tags=["citizen"], summary="Citizens: track an appeal with its code and phone digits"
)
def track(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> Response:
    global _track_limiter
    if _track_limiter is None or _track_limiter.limit != rt.settings.track_rate_per_minute:
        _track_limiter = RateLimiter(limit=rt.settings.track_rate_per_minute)
    client = request.client.host if request.client else "unknown"
    if not _track_limiter.allow(client):
        raise RateLimited("too many look-ups from your address; wait a minute and try again")
    with rt.db.read() as session:
        return _json(service.track(session, rt, code=code, last4=phone_last4))
