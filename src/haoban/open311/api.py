"""Open311 GeoReport v2 under ``/open311/v2``: every call as ``.json`` or ``.xml`` (the spec's default),
errors as the spec's list of ``{code, description}``. Reads are anonymous and rate limited per client
address; a call that carries an ``api_key`` is checked against it (403 when unknown or revoked) and rate
limited per key instead. ``admin_router`` is where admins issue and revoke the keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import DomainError
from haoban.open311 import attributes, filing, keys, service, updates, xml
from haoban.open311.schemas import (
    ClientIn,
    ClientOut,
    CreatedRequestOut,
    DiscoveryOut,
    IssuedKeyOut,
    Open311ErrorOut,
    RequestTokenOut,
    RequestUpdateOut,
    ServiceDefinitionOut,
    ServiceOut,
    ServiceRequestOut,
)
from haoban.ratelimit import check_rate
from haoban.responses import JSON
from haoban.runtime import Runtime

router = APIRouter(prefix="/open311/v2", tags=["open311"])
admin_router = APIRouter(prefix="/api/v1/admin/open311", tags=["open311"])
ApiKey = Annotated[
    str | None, Query(max_length=200, description="a registered client app's key (optional here)")
]

FORMATS = ("json", "xml")
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "model": list[Open311ErrorOut],
        "description": text,
        "content": {"application/xml": {"example": "<errors><error><code>400</code>…</error></errors>"}},
    }
    for code, text in (
        (400, "The request cannot be taken (the spec's error list)"),
        (403, "The api_key is unknown or revoked (the spec's error list)"),
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
    request: Request,
    rt: Runtime,
    fmt: str,
    root: str,
    item: str | None,
    build: Callable[[], Any],
    *,
    api_key: str | None = None,
    key_required: bool = False,
) -> Response:
    if fmt not in FORMATS:
        err = service.Open311Error(404, f"unknown format {fmt!r}: use .json or .xml")
        return _render("xml", err.body(), root="errors", item="error", status=404)
    try:
        if key_required and not api_key:
            raise service.Open311Error(403, "api_key is required to post a service request")
        if api_key is not None:
            # The client this key belongs to, for a call that acts in its name (POST requests).
            request.state.open311_client = keys.check_client(rt.db, api_key=api_key)
        else:
            check_rate(
                rt.db,
                scope="open311",
                client=client_address(request),
                limit=rt.settings.open311_rate_per_minute,
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
def discovery(request: Request, rt: RuntimeDep, fmt: str, api_key: ApiKey = None) -> Response:
    base = str(request.base_url).rstrip("/") + router.prefix

    def build() -> Any:
        return service.discovery(base_url=base)

    return _answer(request, rt, fmt, "discovery", None, build, api_key=api_key)


@router.get(
    "/services.{fmt}",
    response_model=list[ServiceOut],
    responses=_responses("Every service (category) with its group and keywords"),
    summary="Open311 service list",
)
def services(request: Request, rt: RuntimeDep, fmt: str, api_key: ApiKey = None) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return service.services(
                session, directory=rt.directory, attributes=attributes.load(rt.settings.data_dir)
            )

    return _answer(request, rt, fmt, "services", "service", build, api_key=api_key)


@router.get(
    "/services/{service_code}.{fmt}",
    response_model=ServiceDefinitionOut,
    responses=_responses("A service's definition: the extra attributes it asks for"),
    summary="Open311 service definition",
)
def definition(
    request: Request, rt: RuntimeDep, service_code: str, fmt: str, api_key: ApiKey = None
) -> Response:
    def build() -> Any:
        return service.definition(
            directory=rt.directory,
            service_code=service_code,
            attributes=attributes.load(rt.settings.data_dir),
        )

    return _answer(request, rt, fmt, "service_definition", None, build, api_key=api_key)


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
    api_key: ApiKey = None,
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
                sla=rt.sla,
            )

    return _answer(request, rt, fmt, "service_requests", "request", build, api_key=api_key)


@router.get(
    "/requests/{request_id}.{fmt}",
    response_model=list[ServiceRequestOut],
    responses=_responses("One service request (a list of one, as the spec has it)"),
    summary="Open311 one service request",
)
def one_request(
    request: Request, rt: RuntimeDep, request_id: str, fmt: str, api_key: ApiKey = None
) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return [service.get_request(session, directory=rt.directory, request_id=request_id, sla=rt.sla)]

    return _answer(request, rt, fmt, "service_requests", "request", build, api_key=api_key)


_FORM_FIELDS = {
    "api_key": "the client app's key (required)",
    "service_code": "from services.json (required)",
    "lat": "WGS84 latitude; with long, or give address_string or address_id",
    "long": "WGS84 longitude",
    "address_string": "where, in words",
    "address_id": "a district's code or name",
    "attribute[code]": "an answer to a question of the definition (attribute[code][] per value of a list)",
    "email": "the citizen's e-mail",
    "first_name": "the citizen's given name",
    "last_name": "the citizen's family name",
    "phone": "the citizen's phone",
    "description": "what is wrong (at most 4000 characters)",
    "media_url": "an http(s) URL of a photo",
    "device_id": "accepted, not kept",
    "account_id": "accepted, not kept",
    "jurisdiction_id": "accepted (one jurisdiction here)",
}
_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {k: {"type": "string", "description": v} for k, v in _FORM_FIELDS.items()},
                }
            }
        },
    }
}


@router.post(
    "/requests.{fmt}",
    response_model=list[CreatedRequestOut],
    responses=_responses("The order it became: its service_request_id, a token and the promise"),
    summary="Open311 create a service request (form-encoded, with an api_key): an order of channel open311",
    openapi_extra=_FORM_BODY,
)
async def create_request(request: Request, rt: RuntimeDep, fmt: str) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        err = service.Open311Error(
            400, "send the fields form-encoded (application/x-www-form-urlencoded), as the spec says"
        )
        body = err.body()
        return _render(fmt if fmt in FORMATS else "xml", body, root="errors", item="error", status=400)
    async with request.form() as form:
        parsed = filing.RequestForm.parse(list(form.multi_items()))
    api_key = parsed.get("api_key")

    def build() -> Any:
        return filing.file_request(rt, client=request.state.open311_client, form=parsed)

    return await run_in_threadpool(
        _answer, request, rt, fmt, "service_requests", "request", build, api_key=api_key, key_required=True
    )


@router.get(
    "/tokens/{token}.{fmt}",
    response_model=list[RequestTokenOut],
    responses=_responses("The service request a token stands for"),
    summary="Open311 service request id from a token",
)
def token(request: Request, rt: RuntimeDep, token: str, fmt: str, api_key: ApiKey = None) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return filing.by_token(session, token=token)

    return _answer(request, rt, fmt, "service_requests", "request", build, api_key=api_key)


@router.get(
    "/servicerequestupdates.{fmt}",
    response_model=list[RequestUpdateOut],
    responses=_responses("What happened to public service requests in a window (≤ 90 days), oldest first"),
    summary="Open311 servicerequestupdates extension (as FixMyStreet uses it)",
)
def request_updates(
    request: Request,
    rt: RuntimeDep,
    fmt: str,
    start_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    end_date: Annotated[str | None, Query(max_length=40, description="W3C date-time")] = None,
    api_key: ApiKey = None,
) -> Response:
    def build() -> Any:
        with rt.db.read() as session:
            return updates.find_updates(
                session, directory=rt.directory, start_date=start_date, end_date=end_date
            )

    return _answer(request, rt, fmt, "service_request_updates", "request_update", build, api_key=api_key)


# --- client apps and their keys: admins only --------------------------------------------------------


@admin_router.get("/clients", response_model=list[ClientOut], summary="Open311 client apps and their keys")
def list_clients(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return keys.list_clients(session, actor=actor)


@admin_router.post(
    "/clients",
    status_code=201,
    response_model=IssuedKeyOut,
    summary="Register a client app and issue its api_key (shown once; only its hash is kept)",
)
async def issue(rt: RuntimeDep, actor: ActorDep, data: ClientIn) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        with rt.db.write() as session:
            issued = keys.issue_key(session, actor=actor, **data.model_dump())
        return {"client": issued.client, "api_key": issued.api_key}

    return await run_in_threadpool(run)


@admin_router.post(
    "/clients/{client_id}/revoke",
    response_model=ClientOut,
    summary="Revoke a client app's api_key from now on (its calls get 403)",
)
def revoke(rt: RuntimeDep, actor: ActorDep, client_id: int) -> dict[str, Any]:
    with rt.db.write() as session:
        return keys.revoke_key(session, actor=actor, ref=client_id)
