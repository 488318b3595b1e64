"""Per request: a request id (the caller's ``X-Request-ID`` or a new one, echoed back and put in every
log line), the latency and status in Prometheus, and one structured access-log line."""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import time
from typing import Any

from haoban.metrics import REQUEST_SECONDS, REQUESTS
from haoban.ops.logs import REQUEST_ID

access = logging.getLogger("haoban.access")
# A new request id is this process's random prefix and a counter (16 hex digits, unique across
# processes and restarts in practice): no call into the kernel's random source per request.
_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFF:08x}"


def _new_prefix() -> None:  # a forked worker (gunicorn --preload) must not repeat its parent's ids
    global _PREFIX
    _PREFIX = secrets.token_hex(4)


os.register_at_fork(after_in_child=_new_prefix)


_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _metrics(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The latency histogram's and the counter's series for one method, route and status. Looked up
    once: ``labels()`` checks and joins its values under a lock on every call (two per request). As
    many entries as the metrics have series."""
    key = (method, template, status)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = (
            REQUEST_SECONDS.labels(method, template),
            REQUESTS.labels(method, template, str(status)),
        )
    return found


class RequestContext:
    """A pure ASGI middleware (cheaper than Starlette's ``BaseHTTPMiddleware`` on the hot path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or new_request_id()
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            seconds, count = _metrics(method, template, status)
            seconds.observe(elapsed)
            count.inc()
            if access.isEnabledFor(logging.INFO):
                access.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "request_id": request_id,
                        "route": template,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            REQUEST_ID.reset(token)
