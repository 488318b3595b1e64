"""The supervisor board: overdue and warning orders by department, 督办, and the review queues."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haoban.analytics import service as analytics
from haoban.auth.roles import REVIEW_ROLES
from haoban.db import utcnow
from haoban.orders import presenters, queries
from haoban.web import panels
from haoban.web.common import PageRoute, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LIMIT = 10


@router.get("/board")
def board(request: Request, department: str | None = None) -> Response:
    actor = require_actor(request, *REVIEW_ROLES)
    rt = runtime(request)
    now = utcnow()
    dept = rt.directory.department(department) if department else None

    def queue(session: object, **filters: object) -> tuple[list[dict[str, object]], int]:
        f = queries.OrderFilter(department=dept.code if dept else None, **filters)  # type: ignore[arg-type]
        rows, total = queries.list_orders(session, rt, actor=actor, filters=f, page=1, page_size=LIMIT)  # type: ignore[arg-type]
        return [presenters.order_detail(o, rt, actor=actor, now=now) for o in rows], total

    with rt.db.read() as session:
        by_dept = analytics.department_deadlines(session, now=now, directory=rt.directory)
        overdue = queue(session, overdue=True)
        returns = queue(session, status=["return_requested"])
        replies = queue(session, status=["replied"])
        callbacks = queue(session, status=["callback"])
        ext_rows, ext_total = queries.pending_extensions(session, actor=actor, limit=LIMIT)
        extensions = ([presenters.order_detail(o, rt, actor=actor, now=now) for o in ext_rows], ext_total)
        scores = {o["code"]: panels.reply_score(session, code=o["code"], actor=actor) for o in replies[0]}
    return render(
        request,
        "board.html",
        {
            "by_dept": by_dept,
            "dept": dept,
            "sections": [
                ("overdue_orders", "supervise", overdue),
                ("returns_review", "review_return", returns),
                ("replies_review", "review_reply", replies),
                ("extensions_review", "decide_extension", extensions),
                ("callbacks_due", "callback", callbacks),
            ],
            "scores": scores,
            "done": request.query_params.get("done"),
            "done_code": request.query_params.get("code"),
        },
        actor=actor,
    )
