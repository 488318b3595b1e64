"""Photos on the order page: staff see the citizen's photos and attach their own to the reply.

The image bytes are served by these routes only (never a static path): staff who may see the order, or
the citizen through their tracking link (``haoban.web.portal``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.auth.roles import STAFF_ROLES
from haoban.errors import Invalid, NotFound
from haoban.orders import access, attachments
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime
from haoban.web.i18n import translate
from haoban.web.orders import order_context
from haoban.web.uploads import clean_all, read_photos

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def image_response(row: attachments.OrderAttachment | None, *, thumb: bool) -> Response:
    if row is None:
        raise NotFound("no such photo")
    return Response(
        row.thumb if thumb else row.data,
        media_type=row.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/orders/{code}/photos/{attachment_id}")
def staff_photo(request: Request, code: str, attachment_id: int) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        order = access.get_order(session, code=code, actor=actor)
        row = attachments.get(session, order_id=order.id, attachment_id=attachment_id)
        return image_response(row, thumb=request.query_params.get("thumb") == "1")


def _attach(request: Request, code: str, files: list[tuple[str, bytes]]) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    try:
        if not files:
            raise Invalid("no photo chosen", fields={"photos": translate("ph_choose", lang)})
        photos = clean_all(files, lang)
        with rt.db.write() as session:
            order = access.get_order(session, code=code, actor=actor)
            for photo in photos:
                attachments.add(
                    session,
                    order_id=order.id,
                    photo=photo,
                    origin="staff",
                    uploaded_by=actor.name,
                    public=True,
                )
    except Invalid as exc:
        ctx = order_context(
            request,
            code=code,
            actor=actor,
            errors={"photos": exc.detail.get("fields", {})},
            message=exc.message,
        )
        return render(request, "order.html", ctx, status_code=422, actor=actor)
    return redirect(f"/orders/{code}", done="photos")


@router.post("/attachments/orders/{code}")
async def attach(request: Request, code: str) -> Response:
    """A department's photos for its reply (shown to the citizen with the approved reply)."""
    form = await request.form()
    files = await read_photos(form)
    return await run_in_threadpool(_attach, request, code, files)
