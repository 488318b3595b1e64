"""Work-order endpoints: thin — parse, call the services (which authorise), shape the answer."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from haoban.auth.actors import Actor
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep, client_address, get_actor, oauth2_scheme
from haoban.orders import access, pii, presenters, queries
from haoban.orders.actions import apply_action
from haoban.orders.bulk import EXPORT_COLUMNS, export_row
from haoban.orders.intake import CreatedOrder, PreparedOrder, create_order, prepare_order
from haoban.orders.schemas import (
    ActionRequest,
    CreatedOrderOut,
    EventOut,
    KnownOrderOut,
    OrderCreate,
    OrderDetail,
    OrderPage,
    PersonalDataViewOut,
    TrackOut,
    WorkflowOut,
)
from haoban.ratelimit import check_rate
from haoban.runtime import Runtime
from haoban.security.edge import replay_body

router = APIRouter(prefix="/api/v1", tags=["orders"])


@router.post(
    "/orders",
    status_code=201,
    response_model=CreatedOrderOut | KnownOrderOut,
    summary="Register an appeal (受理) from any channel",
    responses={200: {"model": KnownOrderOut, "description": "external_ref seen before: the stored order"}},
)
async def create(
    rt: RuntimeDep, actor: ActorDep, data: OrderCreate, response: Response
) -> dict[str, Any] | Response:
    prepared = prepare_order(rt, data=data, actor=actor)  # the gate refuses roles that may not register
    return await _store(rt, prepared, data=data, actor=actor, response=response)


async def _store(
    rt: Runtime, prepared: PreparedOrder, *, data: OrderCreate, actor: Actor, response: Response
) -> dict[str, Any] | Response:
    if rt.intake is not None:
        created = await rt.intake.submit(prepared)
    else:
        created = await run_in_threadpool(_create_sync, rt, data, actor)
    if not created.created:
        response.status_code = 200
        with rt.db.read() as session:
            order = access.get_order(session, code=created.code, actor=actor)
            return {**presenters.order_summary(order, rt), "created": False}
    view = presenters.created_view(rt, code=created.code, created=True, row=created.row)
    return Response(presenters.created_json(view), status_code=201, media_type="application/json")


def _create_sync(rt: Runtime, data: OrderCreate, actor: Actor) -> CreatedOrder:
    with rt.db.write() as session:
        return create_order(session, rt, data=data, actor=actor)


@router.get(
    "/orders",
    response_model=OrderPage,
    summary=(
        "List orders you may see, filtered, newest first, by cursor "
        f"(or numbered pages up to {queries.NUMBERED_PAGES_CAP:,})"
    ),
    description=(
        'Follow `next_cursor` (or the `next` link, also sent as a `Link: <…>; rel="next"` header) for '
        "the next page: every page costs the same however deep. Numbered pages (`page`) are kept for "
        f"the first {queries.NUMBERED_PAGES_CAP:,} orders of a list (pages 1–"
        f"{queries.last_numbered_page(20)} at 20 a page); past them the answer is a 422 that says to "
        "follow the `next` link, as an offset page reads every row before it. `total` counts up to "
        f"{queries.TOTAL_CAP:,}; `total_exact` is false when more orders match."
    ),
)
def list_orders(
    request: Request,
    response: Response,
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
    page: Annotated[
        int,
        Query(
            ge=1,
            le=100_000,
            description=f"numbered page, within the first {queries.NUMBERED_PAGES_CAP:,} orders "
            "(beyond: follow `next`)",
        ),
    ] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the page before")
    ] = None,
) -> dict[str, Any]:
    filters = queries.OrderFilter(
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
        found = queries.page_orders(
            session, rt, actor=actor, filters=filters, page=page, page_size=page_size, cursor=cursor
        )
        now = utcnow()
        items = [presenters.order_summary(o, rt, now=now) for o in found.rows]
    link = None
    if found.next_cursor:
        url = request.url.remove_query_params("page").include_query_params(cursor=found.next_cursor)
        link = f"{url.path}?{url.query}"  # path and query: right behind any proxy
        response.headers["Link"] = f'<{link}>; rel="next"'
    return {
        "items": items,
        "total": found.total,
        "total_exact": found.total_exact,
        "page": None if cursor else page,
        "page_size": page_size,
        "next_cursor": found.next_cursor,
        "next": link,
    }


@router.get(
    "/orders/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM, one order a row"}},
    summary="Export orders you may see as CSV (personal data masked)",
)
def export(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[list[str] | None, Query()] = None,
    department: str | None = None,
    district: str | None = None,
) -> StreamingResponse:
    filters = queries.OrderFilter(status=status, department=department, district=district)
    queries.check_filters(rt, actor=actor, filters=filters)

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        yield "\ufeff" + buf.getvalue()
        with rt.db.read() as session:
            for order in queries.iter_orders(session, rt, actor=actor, filters=filters):
                buf.seek(0)
                buf.truncate()
                writer.writerow(export_row(order))
                yield buf.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=orders.csv"},
    )


@router.get(
    "/orders/{code}", response_model=OrderDetail, summary="One order, with the actions you may take now"
)
def get_order(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    purpose: Annotated[
        str | None, Query(max_length=200, description="why you look (recorded with the view)")
    ] = None,
) -> dict[str, Any]:
    with rt.db.read() as session:
        order = access.get_order(session, code=code, actor=actor)
        detail = presenters.order_detail(order, rt, actor=actor)
        shown = pii.shows_personal_data(order, actor)
        order_id = order.id
    if shown:  # the citizen's name, phone or ID number went out unmasked: record who, when and why
        with rt.db.write() as session:
            pii.record_view(session, order_id=order_id, actor=actor, purpose=purpose, via="api")
    return detail


@router.get(
    "/audit/personal-data-views",
    response_model=list[PersonalDataViewOut],
    tags=["audit"],
    summary="Auditors: every view of an order's unmasked personal data (who, when, why)",
)
def personal_data_views(
    rt: RuntimeDep,
    actor: ActorDep,
    code: Annotated[str | None, Query(max_length=24)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return pii.views_report(
            session, actor=actor, code=code, username=username, since=since, until=until, limit=limit
        )


@router.post(
    "/orders/{code}/{action}",
    response_model=OrderDetail,
    summary="Take an action on an order (see GET /api/v1/workflow)",
)
def act(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    action: str,
    data: Annotated[ActionRequest | None, Body()] = None,
) -> dict[str, Any]:
    with rt.db.write() as session:
        code = apply_action(
            session, rt, code=code, action=action, data=data or ActionRequest(), actor=actor
        ).code
    with rt.db.read() as session:
        order = access.get_order(session, code=code, actor=actor)
        return presenters.order_detail(order, rt, actor=actor)


@router.get(
    "/orders/{code}/events",
    response_model=list[EventOut],
    summary="The order's case file (一事一档), hash-chained",
)
def events(rt: RuntimeDep, actor: ActorDep, code: str) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [presenters.event_view(e) for e in queries.order_events(session, code=code, actor=actor)]


@router.get(
    "/workflow",
    response_model=WorkflowOut,
    summary="The state table: actions, from which states, to which, by whom, under which guards",
)
def workflow_table() -> dict[str, Any]:
    return presenters.workflow_view()


@router.get(
    "/track/{code}",
    tags=["citizen"],
    response_model=TrackOut,
    summary="Citizens: track an appeal with its code and phone digits",
)
def track(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> dict[str, Any]:
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)
    with rt.db.read() as session:
        return queries.track(session, code=code, last4=phone_last4)


class CreateFastPath:
    """``POST /api/v1/orders`` without FastAPI's per-request machinery (routing through every router,
    dependency solving, exit stacks: about a fifth of a create's CPU), for requests it can take as is.

    The route above stays the one definition (OpenAPI, and the answer to every request this path does
    not take); this path calls its very pieces — the bearer token (``deps.oauth2_scheme``), the actor
    (``deps.get_actor``), the body model (``OrderCreate``, validated as FastAPI validates a JSON body),
    ``prepare_order`` and the endpoint's ``_store`` — and hands any request it cannot take as is to the
    app unchanged: another content type, a body that does not parse or validate, a refused token or
    actor, an order the gate refuses, an ``external_ref`` (answered from the stored order), a dependency
    override, no intake writer. Those get FastAPI's own answers, errors included. Nothing is stored
    before the hand-over point, so nothing is done twice. A pure ASGI middleware, innermost: the edge
    guard and the request context run for it as for every route.
    """

    PATH = "/api/v1/orders"

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.PATH
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = replay_body(body, receive)
        taken = await self._take(scope, body, replay)
        if taken is None:
            await self.app(scope, replay, send)
            return
        await taken(scope, replay, send)

    async def _take(self, scope: dict[str, Any], body: bytes, receive: Any) -> Any:
        """The response for a request this path takes, else None (the app answers it)."""
        app = scope["app"]
        rt: Runtime = app.state.runtime
        if rt.intake is None or app.dependency_overrides:
            return None
        request = Request(scope, receive)
        ctype = request.headers.get("content-type", "")
        if ctype.split(";", 1)[0].strip().lower() != "application/json" or not body:
            return None
        try:
            raw = json.loads(body)  # what Starlette's Request.json does for FastAPI
            if not isinstance(raw, dict) or raw.get("external_ref") is not None:
                return None
            data = OrderCreate.model_validate(raw)
            token = await oauth2_scheme(request)
            if not token:
                return None
            actor = await get_actor(request, token)
            prepared = prepare_order(rt, data=data, actor=actor)
        except Exception:  # whatever it is, the route meets it again and answers it its own way
            return None
        scope["route"], scope["endpoint"] = _CREATE_ROUTE, create
        try:
            return await _store(rt, prepared, data=data, actor=actor, response=Response())
        except Exception as exc:  # stored or not, it is answered as the route answers it
            handler = _handler_for(app, exc)
            if handler is None:
                raise
            return await handler(request, exc)


# The route FastAPI would put in the scope (request metrics are labelled with its path).
_CREATE_ROUTE = next(
    r for r in router.routes if getattr(r, "path", None) == CreateFastPath.PATH and "POST" in r.methods
)


def _handler_for(app: Any, exc: Exception) -> Any:
    for cls in type(exc).__mro__:
        if cls in app.exception_handlers:
            return app.exception_handlers[cls]
    return None


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
