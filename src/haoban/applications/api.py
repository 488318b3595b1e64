"""Applications endpoints (“一件事”): thin — parse, call the services (which authorise), shape the answer.

Submissions and resubmissions take ``multipart/form-data`` (a ``data`` part with the JSON body, one
file part per material key) or plain JSON when no file travels.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, ValidationError

from haoban.applications import access, assistance, bulk, presenters, queries, registry, service
from haoban.applications import help_requests as hr
from haoban.applications.materials import MAX_BYTES, Upload
from haoban.applications.materials import check as check_upload
from haoban.applications.schemas import (
    AccompanyIn,
    AppEventOut,
    ApplicationCreate,
    ApplicationDetail,
    ApplicationPage,
    ApplicationTrack,
    AssistanceKpis,
    BulkActionIn,
    BulkActionOut,
    BundleDetail,
    BundleOut,
    BundleUploaded,
    ConsentCodeIn,
    ConsentCodeOut,
    HelpActionIn,
    HelpRequestCitizenOut,
    HelpRequestIn,
    HelpRequestStaffOut,
    InboxPage,
    ResubmitIn,
    TaskActionIn,
    WithdrawIn,
)
from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.deps import ActorDep, ActorOrCitizenDep, RuntimeDep, client_address
from haoban.errors import Forbidden, Invalid
from haoban.orders.citizen import mask_phone
from haoban.ratelimit import check_rate
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["applications"])

_MULTIPART = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"data": {"type": "string", "description": "the JSON body"}},
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            },
            "application/json": {"schema": {"type": "object"}},
        }
    }
}


async def _read(request: Request, model: type[BaseModel]) -> tuple[Any, dict[str, Upload]]:
    """The JSON body (from ``data`` in a multipart form, or the body itself) and the uploaded files."""
    uploads: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_part_size=MAX_BYTES + 1024)
        raw = form.get("data")
        text = raw if isinstance(raw, str) else "{}"
        for key, value in form.multi_items():
            if key != "data" and not isinstance(value, str):
                uploads[key] = Upload(key, value.filename or key, await value.read())
    else:
        text = (await request.body()).decode("utf-8", "replace") or "{}"
    try:
        return model.model_validate_json(text), uploads
    except ValidationError as exc:
        fields = {".".join(str(x) for x in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        first = next(iter(fields))
        raise Invalid(f"{first}: {fields[first]}", fields=fields, message_zh="提交的内容有误") from None


def _channel(actor: Actor) -> str:
    """Online (the citizen), at the window (a walk-in, in person), or 帮代办 (on someone's behalf)."""
    if actor.role == Role.CITIZEN:
        return "online"
    if actor.role == Role.WINDOW:
        return "window"
    if actor.role in assistance.HELPER_ROLES:
        return "assisted"
    raise Forbidden(
        f"role {actor.role!r} does not apply for people",
        message_zh="当前角色不能代为申请",
        roles_allowed=sorted({Role.WINDOW, *assistance.HELPER_ROLES}),
    )


# -- bundles ---------------------------------------------------------------------------------------


@router.get("/bundles", response_model=list[BundleOut], summary="“一件事” bundles people can apply for")
def list_bundles(rt: RuntimeDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [
            presenters.bundle_view(r, registry.definition_of(rt, r)) for r in registry.latest_rows(session)
        ]


@router.get("/bundles/{code}", response_model=BundleDetail, summary="A bundle: its form, materials, tasks")
def get_bundle(rt: RuntimeDep, code: str, version: int | None = None) -> dict[str, Any]:
    with rt.db.read() as session:
        rows = registry.versions(session, code)
        row = registry.require_latest(session, code)
        if version is not None:
            row = next((r for r in rows if r.version == version), row)
        return presenters.bundle_detail(row, registry.definition_of(rt, row), [r.version for r in rows])


@router.post(
    "/bundles",
    status_code=201,
    response_model=BundleUploaded,
    summary="Upload a bundle version (BPMN, form schema, mapping, bundle.yaml); admins",
    responses={200: {"model": BundleUploaded, "description": "the same files as the latest version"}},
)
def upload_bundle(
    rt: RuntimeDep,
    actor: ActorDep,
    response: Response,
    process: Annotated[UploadFile, File(description="process.bpmn")],
    form_schema: Annotated[UploadFile, File(description="form.schema.json")],
    mapping: Annotated[UploadFile, File(description="mapping.yaml")],
    bundle: Annotated[UploadFile, File(description="bundle.yaml")],
) -> dict[str, Any]:
    files = {
        "process.bpmn": process.file.read(),
        "form.schema.json": form_schema.file.read(),
        "mapping.yaml": mapping.file.read(),
        "bundle.yaml": bundle.file.read(),
    }
    with rt.db.write() as session:
        row, created = registry.upload(session, rt, files=files, actor=actor)
        view = {**presenters.bundle_view(row, registry.definition_of(rt, row)), "created": created}
    if not created:
        response.status_code = 200
    return view


# -- applications ----------------------------------------------------------------------------------


def _detail(rt: Runtime, code: str, actor: Actor) -> dict[str, Any]:
    with rt.db.read() as session:
        app = access.get_application(session, code=code, actor=actor)
        return presenters.detail(rt, session, app, actor)


def _track(rt: Runtime, code: str, last4: str) -> dict[str, Any]:
    with rt.db.read() as session:
        app = access.get_for_applicant(session, code=code, last4=last4)
        return presenters.track(rt, session, app)


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationTrack,
    summary="Apply once (一次提交): the bundle, the shared form, materials as files",
    openapi_extra=_MULTIPART,
)
async def create_application(request: Request, rt: RuntimeDep, actor: ActorOrCitizenDep) -> dict[str, Any]:
    data, uploads = await _read(request, ApplicationCreate)
    channel = _channel(actor)
    if actor.role == Role.CITIZEN:
        check_rate(
            rt.db, scope="apply", client=client_address(request), limit=rt.settings.track_rate_per_minute
        )
    signature = uploads.pop("consent_signature", None)
    consent = None
    if data.consent is not None:
        consent = assistance.Consent(
            data.consent.method, data.consent.code, check_upload(signature) if signature else None
        )
    try:
        with rt.db.write() as session:
            app, _ = service.submit(
                session,
                rt,
                bundle=data.bundle,
                form=data.form,
                applicant=service.Applicant(
                    data.applicant.name, data.applicant.phone, data.applicant.id_number
                ),
                actor=actor,
                uploads=uploads,
                reuse=data.reuse,
                channel=channel,
                green_channel=data.green_channel,
                consent=consent,
                note=data.note,
            )
            return presenters.track(rt, session, app)
    except assistance.WrongCode as wrong:
        with rt.db.write() as session:  # a wrong code counts towards the limit; nothing else is kept
            assistance.count_failed_attempt(session, wrong.code_id)
        raise


@router.get("/applications", response_model=ApplicationPage, summary="Applications you may see")
def list_applications(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[list[str] | None, Query()] = None,
    bundle: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    with rt.db.read() as session:
        rows, total = queries.list_applications(
            session, actor=actor, status=status, bundle=bundle, page=page, page_size=page_size
        )
        items = [presenters.summary(rt, session, a) for a in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get(
    "/application-tasks",
    response_model=InboxPage,
    summary="Your department's bundle tasks: green channel first, then by deadline",
)
def inbox(
    rt: RuntimeDep,
    actor: ActorDep,
    open_only: bool = True,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=queries.INBOX_MAX_PAGE_SIZE)] = queries.INBOX_PAGE_SIZE,
) -> dict[str, Any]:
    now = utcnow()
    with rt.db.read() as session:
        rows, total = queries.inbox(
            session, actor=actor, open_only=open_only, page=page, page_size=page_size, now=now
        )
        items = [
            {
                **presenters.task_view(rt, task, actor, now),
                "application": app.code,
                "bundle_name": registry.definition_by_id(session, rt, app.definition_id).name,
                "applicant_name": app.applicant_name,
            }
            for task, app in rows
        ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get(
    "/applications/{code}",
    response_model=ApplicationDetail,
    summary="One application (staff); personal data masked unless reveal=true, which is recorded",
)
def get_application(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    reveal: Annotated[
        bool, Query(description="show phone and ID numbers unmasked (recorded: who, when, why)")
    ] = False,
    purpose: Annotated[
        str | None, Query(max_length=200, description="why you look (recorded with the view)")
    ] = None,
) -> dict[str, Any]:
    if reveal:
        return presenters.revealed_detail(rt, code=code, actor=actor, purpose=purpose, via="api")
    return _detail(rt, code, actor)


@router.get(
    "/applications/{code}/track",
    tags=["citizen"],
    response_model=ApplicationTrack,
    summary="Applicants: follow your application with its code and phone digits",
)
def track(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> dict[str, Any]:
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)
    return _track(rt, code, phone_last4)


@router.get(
    "/applications/{code}/events",
    response_model=list[AppEventOut],
    summary="The application's case file (一事一档), hash-chained",
)
def events(rt: RuntimeDep, actor: ActorDep, code: str) -> list[dict[str, Any]]:
    from haoban.applications.events import events_of

    with rt.db.read() as session:
        app = access.get_application(session, code=code, actor=actor)
        return [presenters.event_view(e) for e in events_of(session, app)]


@router.post(
    "/applications/{code}/tasks/{task_id}/{action}",
    response_model=ApplicationDetail,
    summary="A department acts on its task: accept, accept_tolerated, request_correction, approve, reject",
)
def act(
    rt: RuntimeDep, actor: ActorDep, code: str, task_id: str, action: str, data: TaskActionIn | None = None
) -> dict[str, Any]:
    body = data or TaskActionIn()
    data_in = service.TaskAction(**body.model_dump())
    service.act_alone(rt, code=code, task_id=task_id, action=action, data=data_in, actor=actor)
    return _detail(rt, code, actor)


@router.post(
    "/application-tasks/bulk/{action}",
    response_model=BulkActionOut,
    summary="Your department's bulk action (accept / approve with one result template), all or nothing",
)
def act_in_bulk(rt: RuntimeDep, actor: ActorDep, action: str, data: BulkActionIn) -> dict[str, Any]:
    """Every selected task exactly as one by one, in one transaction: the first refusal (named in the
    message and in ``failed``) leaves every task as it was."""
    items = [bulk.BulkItem(t.application, t.task_id, t.result) for t in data.tasks]
    with rt.db.write() as session:
        outcomes = bulk.act_many(session, rt, action=action, items=items, actor=actor, result=data.result)
    done_items = sorted(items, key=lambda i: (i.code, i.task_id))
    return {
        "action": action,
        "count": len(outcomes),
        "done": [
            {"application": i.code, "task_id": i.task_id, "application_status": o.status}
            for i, o in zip(done_items, outcomes, strict=True)
        ],
    }


def _applicant_app(session: Any, actor: Actor, code: str, last4: str | None) -> Any:
    if actor.role == Role.CITIZEN:
        if not last4:
            raise Invalid(
                "phone_last4 is required", fields={"phone_last4": "required"}, message_zh="请填写手机号后四位"
            )
        return access.get_for_applicant(session, code=code, last4=last4, lock=True)
    return access.get_application(session, code=code, actor=actor, lock=True)


@router.post(
    "/applications/{code}/resubmit",
    response_model=ApplicationTrack,
    summary="The one resubmission (补正): every flagged field and material at once",
    openapi_extra=_MULTIPART,
)
async def resubmit(request: Request, rt: RuntimeDep, actor: ActorOrCitizenDep, code: str) -> dict[str, Any]:
    data, uploads = await _read(request, ResubmitIn)
    with rt.db.write() as session:
        app = _applicant_app(session, actor, code, data.phone_last4)
        service.resubmit(session, rt, app=app, form_changes=data.form_changes, uploads=uploads, actor=actor)
        return presenters.track(rt, session, app)


@router.post(
    "/applications/{code}/withdraw", response_model=ApplicationTrack, summary="Withdraw an application (撤回)"
)
def withdraw(rt: RuntimeDep, actor: ActorOrCitizenDep, code: str, data: WithdrawIn) -> dict[str, Any]:
    with rt.db.write() as session:
        app = _applicant_app(session, actor, code, data.phone_last4)
        service.withdraw(session, rt, app=app, reason=data.reason, actor=actor)
        return presenters.track(rt, session, app)


@router.get(
    "/applications/{code}/materials/{material_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
    summary="Download one material (staff who may see the application)",
)
def material(rt: RuntimeDep, actor: ActorDep, code: str, material_id: int) -> Response:
    with rt.db.read() as session:
        app = access.get_application(session, code=code, actor=actor)
        found = service.material_bytes(session, app=app, material_id=material_id)
    content_type, filename, data = found
    return Response(
        data,
        media_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.post(
    "/applications/{code}/materials",
    response_model=ApplicationTrack,
    summary="Bring the material promised under 容缺受理 (multipart, field name = material key)",
    openapi_extra=_MULTIPART,
)
async def supply_material(
    request: Request, rt: RuntimeDep, actor: ActorOrCitizenDep, code: str
) -> dict[str, Any]:
    data, uploads = await _read(request, ResubmitIn)
    with rt.db.write() as session:
        app = _applicant_app(session, actor, code, data.phone_last4)
        service.supply_material(session, rt, app=app, uploads=uploads, actor=actor)
        return presenters.track(rt, session, app)


@router.post(
    "/applications/{code}/deliveries/{delivery_id}/hand-over",
    response_model=ApplicationDetail,
    summary="统一窗口出件: hand the results over at the window, or the parcel to the courier",
)
def hand_over(rt: RuntimeDep, actor: ActorDep, code: str, delivery_id: int) -> dict[str, Any]:
    with rt.db.write() as session:
        app = access.get_application(session, code=code, actor=actor, lock=True)
        service.hand_over(session, rt, app=app, delivery_id=delivery_id, actor=actor)
    return _detail(rt, code, actor)


# -- 帮代办 -------------------------------------------------------------------------------------------


@router.post(
    "/assistance/consent-codes",
    status_code=201,
    response_model=ConsentCodeOut,
    tags=["assistance"],
    summary="帮代办: send a one-time consent code to the person's phone",
)
def consent_code(rt: RuntimeDep, actor: ActorDep, data: ConsentCodeIn) -> dict[str, Any]:
    with rt.db.write() as session:
        row = assistance.request_code(session, phone=data.phone, actor=actor)
        return {"phone": mask_phone(row.phone) or "", "expires_at": row.expires_at}


@router.post(
    "/applications/{code}/accompany",
    response_model=ApplicationDetail,
    tags=["assistance"],
    summary="陪同办: log that a helper went along with the applicant",
)
def accompany(rt: RuntimeDep, actor: ActorDep, code: str, data: AccompanyIn) -> dict[str, Any]:
    with rt.db.write() as session:
        app = access.get_application(session, code=code, actor=actor, lock=True)
        assistance.accompany(rt, session, app=app, actor=actor, note=data.note)
    return _detail(rt, code, actor)


@router.get(
    "/assistance/kpis",
    response_model=AssistanceKpis,
    tags=["assistance"],
    summary="帮代办 counts per helper and per green-channel group",
)
def assistance_kpis(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    with rt.db.read() as session:
        return assistance.kpis(session, actor=actor)


# --- 请工作人员帮我办: call-back requests into the 帮代办 queue (help_requests.py) ---
HELP_RATE_PER_MINUTE = 5


@router.post(
    "/help-requests",
    status_code=201,
    response_model=HelpRequestCitizenOut,
    tags=["assistance"],
    summary="请工作人员帮我办: ask to be called back and helped (no login)",
)
def file_help_request(rt: RuntimeDep, request: Request, data: HelpRequestIn) -> dict[str, Any]:
    check_rate(rt.db, scope="help", client=client_address(request), limit=HELP_RATE_PER_MINUTE)
    lang = "en" if data.lang == "en" else "zh"
    with rt.db.write() as session:
        req = hr.file_request(
            rt,
            session,
            name=data.name,
            phone=data.phone,
            need=data.need,
            preferred_time=data.preferred_time,
            lang=lang,
        )
        return hr.citizen_view(session, req, lang)


@router.get(
    "/help-requests/{code}/track",
    response_model=HelpRequestCitizenOut,
    tags=["assistance"],
    summary="Follow a help request with its code and the phone's last four digits",
)
def track_help_request(
    rt: RuntimeDep,
    request: Request,
    code: str,
    phone_last4: str = Query(pattern=r"^\d{4}$"),
    lang: str = "zh",
) -> dict[str, Any]:
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)
    with rt.db.read() as session:
        req = hr.for_citizen(session, code=code, last4=phone_last4)
        return hr.citizen_view(session, req, "en" if lang == "en" else "zh")


@router.get(
    "/help-requests",
    response_model=list[HelpRequestStaffOut],
    tags=["assistance"],
    summary="The 帮代办 queue: waiting oldest first, then in hand, then closed",
)
def help_queue(
    rt: RuntimeDep, actor: ActorDep, status: str | None = None, lang: str = "zh"
) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [hr.staff_view(session, r, lang, actor) for r in hr.queue(session, actor=actor, status=status)]


@router.post(
    "/help-requests/{code}/{action}",
    response_model=HelpRequestStaffOut,
    tags=["assistance"],
    summary="claim, note (a call), release or close (with an outcome) a help request",
)
def act_on_help_request(
    rt: RuntimeDep, actor: ActorDep, code: str, action: str, data: HelpActionIn
) -> dict[str, Any]:
    with rt.db.write() as session:
        req = hr.act(session, code=code, action=action, actor=actor, note=data.note, outcome=data.outcome)
        return hr.staff_view(session, req, "zh", actor)
