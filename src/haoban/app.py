"""The FastAPI application factory. Wiring only: routers, error mapping, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from haoban import __version__, wiring
from haoban.errors import DomainError
from haoban.ops.middleware import RequestContext
from haoban.orders.api import CreateFastPath
from haoban.responses import JSON
from haoban.runtime import Runtime
from haoban.security.crypto import check_data_key
from haoban.security.edge import EdgeGuard
from haoban.security.openapi import declare_statuses
from haoban.security.privacy import install_log_masking


def _field_errors(exc: RequestValidationError) -> tuple[str, dict[str, str]]:
    fields: dict[str, str] = {}
    message = "the request is not valid"
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
        if err.get("type") == "json_invalid":
            message = "malformed JSON body: " + str(err.get("ctx", {}).get("error", "cannot parse"))
            fields["body"] = "not valid JSON"
            continue
        name = ".".join(loc) or "body"
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        fields.setdefault(name, msg.removeprefix("Value error, "))
    return message, fields


def create_app(
    runtime: Runtime | None = None,
    *,
    run_worker: bool = False,
    upgrade: bool = True,
    jobs_lock: str | None = None,
    follow: bool = False,
) -> FastAPI:
    """The app for ``runtime``. ``run_worker``: run the background jobs in this process;
    ``jobs_lock``: run them only while this process holds that file lock (one of several processes);
    ``follow``: keep the in-memory indexes in step with the database in the background (the change
    feed; ``haoban serve`` does)."""
    rt = wiring.wire(runtime) if runtime is not None else wiring.runtime()
    install_log_masking()  # no phone or ID number in any log line, whoever logs it

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from haoban import worker
        from haoban.ops.feed import ChangeFeed
        from haoban.orders.intake import IntakeWriter

        if upgrade:
            rt.db.upgrade()
        check_data_key(rt.db.engine)  # another data key than the stored ID numbers': refuse to start
        rt.intake = IntakeWriter(
            rt.db, max_batch=rt.settings.intake_batch_max, gather=rt.settings.intake_gather_ms / 1000
        )
        feed = ChangeFeed(rt) if follow else None
        app.state.feed = feed
        if feed is not None:
            feed.start()
        leader = worker.Leader(rt, jobs_lock) if jobs_lock else None
        if leader is not None:
            leader.start()
        elif run_worker:
            worker.start(rt)
        try:
            yield
        finally:
            # uvicorn has stopped taking requests and waited for those in flight: their orders are
            # written. The job runner finishes the job it is running; the writer its last batch.
            if leader is not None:
                leader.stop()
            worker.stop(rt)
            if feed is not None:
                feed.stop()
            rt.intake.close()
            rt.intake = None

    app = FastAPI(
        title="haoban 好办",
        version=__version__,
        description="12345 hotline work orders, dispatch and service delivery for a city.",
        lifespan=lifespan,
        # /docs and /redoc are the pages router's: served with the app's own copies of the assets.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = rt
    app.state.feed = None

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSON:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if "retry_after" in exc.detail:
            headers = {"Retry-After": str(exc.detail["retry_after"])}
        return JSON(exc.to_dict(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # An unknown page or a wrong method: a browser gets the site's error page, the API its JSON.
        from haoban.web.common import error_page, wants_page

        if exc.status_code < 500 and wants_page(request):
            return error_page(request, exc)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSON:
        message, fields = _field_errors(exc)
        return JSON({"error": "invalid", "message": message, "fields": fields}, status_code=422)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(_request: Request, exc: Exception) -> JSON:
        # A number beyond what the database stores (ids past 2^31 / 2^63, a negative LIMIT): the
        # caller's input, not a fault of ours. Parameters are bounded where declared; this is the net.
        return JSON(
            {"error": "invalid", "message": "a value in the request is out of range", "fields": {}},
            status_code=422,
        )

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSON:
        # SQLite "database is locked" after the busy timeout: the caller may retry.
        return JSON(
            {"error": "busy", "message": "the database is busy; retry in a moment"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    from haoban.analytics.api import router as analytics_router
    from haoban.applications.api import router as applications_router
    from haoban.auth.api import admin_router as auth_admin_router
    from haoban.auth.api import router as auth_router
    from haoban.benefits.api import router as benefits_router
    from haoban.calendar.api import router as calendar_router
    from haoban.casework.api import router as casework_router
    from haoban.catalog.api import router as catalog_router
    from haoban.directory.api import router as directory_router
    from haoban.dispatch.api import router as dispatch_router
    from haoban.federation.api import router as federation_router
    from haoban.feedback.api import router as feedback_router
    from haoban.hotspots.api import router as hotspots_router
    from haoban.knowledge.api import router as knowledge_router
    from haoban.licences.api import router as licences_router
    from haoban.open311.api import admin_router as open311_admin_router
    from haoban.open311.api import router as open311_router
    from haoban.ops.api import router as ops_router
    from haoban.orders.admin_api import router as reply_templates_router
    from haoban.orders.api import router as orders_router
    from haoban.sla.api import router as sla_router
    from haoban.tourism.api import router as tourism_router
    from haoban.web.pages import router as pages_router

    for router in (
        auth_router,
        auth_admin_router,
        orders_router,
        reply_templates_router,
        directory_router,
        dispatch_router,
        sla_router,
        calendar_router,
        analytics_router,
        hotspots_router,
        knowledge_router,
        feedback_router,
        tourism_router,
        applications_router,
        casework_router,
        catalog_router,
        benefits_router,
        licences_router,
        pages_router,
        ops_router,
        open311_router,
        open311_admin_router,
        federation_router,
    ):
        app.include_router(router)

    app.add_middleware(CreateFastPath)  # innermost: the create's requests that need no FastAPI machinery
    app.add_middleware(EdgeGuard)  # control characters and body caps, before any route reads input
    declare_statuses(app)
    app.add_middleware(RequestContext)  # outermost: every answer, the guard's refusals too, is counted

    return app
