"""Open311 GeoReport v2 under ``/open311/v2``: every call as ``.json`` or ``.xml`` (the spec's default),
errors as the spec's list of ``{code, description}``. Anonymous and rate limited per client address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from haoban.deps import RuntimeDep, client_address
from haoban.errors import DomainError
from haoban.open311 import service, xml
from haoban.open311.schemas import (
    DiscoveryOut,
    Open311ErrorOut,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
)
from haoban.ratelimit import check_rate
from haoban.responses import JSON
from haoban.runtime import Runtime

router = APIRouter(prefix="/open311/v2", tags=["open311"])

FORMATS = ("json", "xml")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "model": list[Open311ErrorOut],
        "description": text,
        "content": {"application/xml": {"example": "<errors><error><code>400</code>…</error></errors>"}},
    }
    for code, text in (
        (400, "The request cannot be taken (the spec's error list)"),
        (404, "No such service request, or an unknown format (the spec's error list)"),
        (429, "Too many requests from this address; wait a minute (the spec's error list)"),
    )
}


def _responses(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/xml": {}}}, **_ERRORS}


def _render(fmt: str, body: Any, *, root: str, item: str | None, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml.document(root, item, body), status_code=status, media_type="application/xml")
    return JSON(body, status_code=status)


def _answer(
    request: Request, rt: Runtime, fmt: str, root: str, item: str | None, build: Callable[[], Any]
) -> Response:
    if fmt not in FORMATS:
        err = service.Open311Error(404, f"unknown format {fmt!r}: use .json or .xml")
        return _render("xml", err.body(), root="errors", item="error", status=404)
    try:
        check_rate(
            rt.db, scope="open311", client=client_address(request), limit=rt.settings.open311_rate_per_minute
        )
        body = build()
    except service.Open311Error as exc:
        return _render(fmt, exc.body(), root="errors", item="error", status=exc.http_status)
    except DomainError as exc:  # the rate limit: same form, so a client's error handling sees one shape
        body = [{"code": exc.status_code, "description": exc.message}]
        return _render(fmt, body, root="errors", item="error", status=exc.status_code)
    return _render(fmt, body, root=root, item=item)


@router.get(
    "/discovery.{fmt}",
    response_model=DiscoveryOut,
    responses=_responses("Where the endpoint is and what it speaks"),
    summary="Open311 discovery",
)
def discovery(request: Request, rt: RuntimeDep, fmt: str) -> Response:
    base = str(request.base_url).rstrip("/") + router.prefix
    return _answer(request, rt, fmt, "discovery", None, lambda: service.discovery(base_url=base))


@router.get(
    "/services.{fmt}",
    response_model=list[ServiceOut],
    responses=_responses("Every service (category) with its group and keywords"),
    summary="Open311 service list",
)
def services(request: Request, rt: RuntimeDep, fmt: str) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return service.services(session, directory=rt.directory)

    return _answer(request, rt, fmt, "services", "service", build)


@router.get(
    "/services/{service_code}.{fmt}",
    response_model=ServiceDefinitionOut,
    responses=_responses("A service's definition: the extra attributes it asks for"),
    summary="Open311 service definition",
)
def definition(request: Request, rt: RuntimeDep, service_code: str, fmt: str) -> Response:
    def build() -> Any:
        return service.definition(directory=rt.directory, service_code=service_code)

    return _answer(request, rt, fmt, "service_definition", None, build)


@router.get(
    "/requests.{fmt}",
    response_model=list[ServiceRequestOut],
    responses=_responses("Service requests, newest first, without personal data"),
    summary="Open311 service requests: by ids, or by service, status and dates (≤ 90 days apart)",
)
def requests(
    request: Request,
    rt: RuntimeDep,
    fmt: str,
    service_request_id: Annotated[str | None, Query(max_length=4000, description="comma-separated")] = None,
    service_code: Annotated[str | None, Query(max_length=300)] = None,
    start_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    end_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    status: Annotated[str | None, Query(max_length=20, description="open, closed or both")] = None,
) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return service.find_requests(
                session,
                directory=rt.directory,
                ids=service_request_id,
                service_code=service_code,
                start_date=start_date,
                end_date=end_date,
                status=status,
            )

    return _answer(request, rt, fmt, "service_requests", "request", build)


@router.get(
    "/requests/{request_id}.{fmt}",
    response_model=list[ServiceRequestOut],
    responses=_responses("One service request (a list of one, as the spec has it)"),
    summary="Open311 one service request",
)
def one_request(request: Request, rt: RuntimeDep, request_id: str, fmt: str) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return [service.get_request(session, directory=rt.directory, request_id=request_id)]

    return _answer(request, rt, fmt, "service_requests", "request", build)
