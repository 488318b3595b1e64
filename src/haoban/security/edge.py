"""The edge guard: an ASGI middleware that refuses malformed input before any route reads it.

- **Control characters** (NUL and the other C0 / C1 controls except tab, line feed and carriage
  return; lone UTF-16 surrogates) in the path, the query, a JSON body or a form field → 400. PostgreSQL
  cannot store NUL at all, and the text pipelines used it as a separator; refusing it here, once, keeps
  every route on both databases safe.
- **Body caps per route**, enforced before the body is read: a declared ``Content-Length`` over the
  cap is refused at once (413) and a chunked body is cut off as soon as it passes the cap. Login is
  small, uploads are larger, everything else gets the default (``BODY_LIMITS``).
- **Form limits**: too many fields or a field over the cap → 413 / 422, never a 500.

A route that needs a larger body adds its path prefix to ``BODY_LIMITS``; a route that takes files
(materials) is declared in ``UPLOAD_ROUTES`` with how many files it takes and how large each may be:
a file over its cap is refused with 413 naming the field, before the route reads anything.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request, cookie_parser

from haoban.security import csrf

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB
DEFAULT_BODY_LIMIT = 1 * MIB
# Longest matching prefix wins. Login forms carry a name, a password and perhaps a one-time code.
BODY_LIMITS: dict[str, int] = {
    "/api/v1/auth/": 4 * KIB,
    "/login": 4 * KIB,
    "/logout": 4 * KIB,
    "/portal/similar": 16 * KIB,
    "/api/v1/admin/calendar/schedules": 4 * MIB,
    "/api/v1/admin/dispatch/rules.yaml": 4 * MIB,
    "/admin/calendar": 4 * MIB,
    "/api/v1/catalog/import": 5 * MIB,  # a city's whole service catalogue as CSV / YAML
    # 跨省通办 files carry the applicant's materials (base64): a partner's message, a window's file.
    "/api/v1/federation/messages": 48 * MIB,
    "/api/v1/federation/files": 48 * MIB,
    "/api/v1/federation/online": 40 * MIB,
}
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 5


@dataclass(frozen=True)
class UploadRoute:
    """A route that takes files: the whole body, the number of files and each file's cap."""

    pattern: re.Pattern[str]
    body: int
    files: int
    file_bytes: int
    field_prefix: str = ""  # how the route's errors name a file field (e.g. "materials.")


# Application materials (PDF / JPEG / PNG, at most 10 MB each: haoban.applications.materials.MAX_BYTES),
# several per submission (a bundle's materials and a consent signature), 40 MiB in all.
_MATERIAL_BYTES = 10 * 1024 * 1024
UPLOAD_ROUTES: tuple[UploadRoute, ...] = (
    UploadRoute(
        re.compile(r"^/api/v1/applications(/[^/]+/(resubmit|materials))?/?$"),
        40 * MIB,
        16,
        _MATERIAL_BYTES,
        "materials.",
    ),
    UploadRoute(re.compile(r"^/api/v1/bundles/?$"), 8 * MIB, 4, 4 * MIB),  # BPMN, schema, mapping, meta
    # Photos (JPEG / PNG, 8 MB each: haoban.orders.attachments.MAX_BYTES): up to 4 with an appeal or a
    # reply, one to read its GPS position.
    UploadRoute(re.compile(r"^/portal/file/?$"), 34 * MIB, 4, 8 * MIB),
    UploadRoute(re.compile(r"^/portal/photo-place/?$"), 9 * MIB, 1, 8 * MIB),
    UploadRoute(re.compile(r"^/attachments/orders/[^/]+/?$"), 34 * MIB, 4, 8 * MIB),
    # The pages' forms (haoban.web.applications, haoban.web.window): file inputs named material.<key>.
    UploadRoute(
        re.compile(
            r"^/(portal/apply/[^/]+|portal/applications/[^/]+/resubmit|window/register/[^/]+(/consent-code)?)/?$"
        ),
        40 * MIB,
        16,
        _MATERIAL_BYTES,
    ),
    UploadRoute(re.compile(r"^/applications/[^/]+/materials/?$"), 40 * MIB, 16, _MATERIAL_BYTES),
    # 跨省通办: the receiving window's page sends an applicant's materials to the home region.
    UploadRoute(re.compile(r"^/federation/send/?$"), 40 * MIB, 4, _MATERIAL_BYTES, "materials."),
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Text may carry tab, line feed and carriage return; no other control character has a use in it.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|[\ud800-\udfff]")
_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def upload_route(path: str) -> UploadRoute | None:
    return next((u for u in UPLOAD_ROUTES if u.pattern.match(path)), None)


def body_limit(path: str) -> int:
    if len(path) <= 200:
        return _body_limit_of_path(path)  # every POST asks; its few paths are remembered
    return _body_limit(path)


@functools.lru_cache(maxsize=4096)
def _body_limit_of_path(path: str) -> int:
    return _body_limit(path)


def _body_limit(path: str) -> int:
    upload = upload_route(path)
    if upload is not None:
        return upload.body
    best, limit = -1, DEFAULT_BODY_LIMIT
    for prefix, value in BODY_LIMITS.items():
        if path.startswith(prefix) and len(prefix) > best:
            best, limit = len(prefix), value
    return limit


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _address_problem(scope: Scope) -> str | None:
    if has_control(scope.get("path", "")):
        return "control characters (such as NUL) are not allowed in the address"
    raw = scope.get("query_string", b"")
    if raw:
        try:
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
        except ValueError:
            return "the query string cannot be read"
        for key, value in pairs:
            if has_control(key) or has_control(value):
                return f"control characters (such as NUL) are not allowed in the parameter {key[:40]!r}"
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _json_problem(body: bytes) -> str | None:
    if _RAW_CONTROL.search(body):
        return "control characters (such as NUL) are not allowed in the request body"
    if b"\\u" not in body:
        return None  # no escapes: the raw bytes said it all
    try:
        # Python's parser keeps lone surrogates (which no database can store) instead of failing.
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None  # malformed JSON: the route answers 422 with the parser's message
    if any(has_control(s) for s in _strings(value)):
        return "control characters (such as NUL) are not allowed in the request body"
    return None


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MB" if n >= MIB else f"{n / KIB:.0f} KiB"


async def _form_problem(scope: Scope, body: bytes, limit: int) -> tuple[int, str] | str | None:
    """(status, message) for a form that cannot be taken; else the CSRF token it carries (or None)."""
    request = Request(scope, replay_body(body, _no_more))
    upload = upload_route(scope.get("path", ""))
    max_files = upload.files if upload else MAX_FORM_FILES
    try:
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=max_files, max_part_size=limit)
    except (MultiPartException, HTTPException) as exc:
        message = str(getattr(exc, "detail", None) or getattr(exc, "message", None) or exc)
        if "size" in message.lower():
            return 413, f"a form field is too large (at most {limit // KIB} KiB)"
        if "files" in message.lower():
            return 422, f"too many files in one form (at most {max_files})"
        return 422, f"the form cannot be read: {message}"
    try:
        if len(form.multi_items()) > MAX_FORM_FIELDS:
            return 422, f"too many form fields (at most {MAX_FORM_FIELDS})"
        for key, value in form.multi_items():
            if has_control(key) or (not isinstance(value, UploadFile) and has_control(value)):
                return 400, f"control characters (such as NUL) are not allowed in the field {key[:40]!r}"
            if isinstance(value, UploadFile) and value.size is not None:
                cap = upload.file_bytes if upload else limit
                if value.size > cap:
                    name = (value.filename or key)[:80]
                    prefix = upload.field_prefix if upload else ""
                    return 413, (
                        f"{prefix}{key[:40]}: the file {name!r} is {_size(value.size)}; "
                        f"each file may be at most {_size(cap)} (文件过大)"
                    )
        token = form.get(csrf.FIELD)
        return token if isinstance(token, str) else None
    finally:
        await form.close()


async def _no_more() -> Message:
    return {"type": "http.disconnect"}


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then defers to the real one."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "bad_request", "the client went away before the body arrived")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> Refused:
    shown = f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"
    return Refused(413, "too_large", f"the request body is too large (at most {shown} here)")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _secret(scope: Scope) -> str:
    return scope["app"].state.runtime.settings.secret_key


# The headers the guard reads, found in one pass over a request's headers (the first of each counts).
_READ = frozenset({b"cookie", b"content-length", b"content-type", csrf.HEADER.encode()})


def _read_headers(scope: Scope) -> dict[bytes, str]:
    found: dict[bytes, str] = {}
    for key, value in scope.get("headers", ()):
        name = key.lower()
        if name in _READ and name not in found:
            found[name] = value.decode("latin-1")
    return found


async def refuse(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    """Answer JSON under /api (the API's error shape), a small page elsewhere."""
    if scope.get("path", "").startswith("/api/"):
        body = orjson.dumps({"error": code, "message": message})
        ctype = b"application/json"
    else:
        safe = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        body = (
            f'<!doctype html><meta charset="utf-8"><title>{status}</title>'
            f"<p>请求未被接受 The request was refused ({status}): {safe}</p>"
            '<p><a href="/">首页 Home</a></p>'
        ).encode()
        ctype = b"text/html; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EdgeGuard:
    """The ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _read_headers(scope)
        cookies = headers.get(b"cookie")
        seed = cookie_parser(cookies).get(csrf.COOKIE) if cookies else None
        if seed and len(seed) > 64:
            seed = None
        new_seed = None
        # The API never sets the seed's cookie, so a seed drawn for an /api/ request would match no
        # token a browser holds: draw one only for the pages (os.urandom on every API call, for nothing).
        if not seed and not scope["path"].startswith("/api/"):
            seed = new_seed = csrf.new_seed()
        scope.setdefault("state", {})["csrf_seed"] = seed
        extra = csrf.security_headers(scope)
        if new_seed:
            secure = "; Secure" if scope.get("scheme") == "https" else ""
            cookie = f"{csrf.COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Strict{secure}"
            extra.append((b"set-cookie", cookie.encode("latin-1")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k == b"set-cookie" or k not in names)
                message["headers"] = headers
            await send(message)

        try:
            receive = await self._check(scope, receive, seed, headers)
        except Refused as exc:
            await refuse(scope, send_with_headers, exc.status, exc.code, exc.message)
            return
        await self.app(scope, receive, send_with_headers)

    async def _check(
        self, scope: Scope, receive: Receive, seed: str | None, headers: dict[bytes, str]
    ) -> Receive:
        problem = _address_problem(scope)
        if problem:
            raise Refused(400, "bad_request", problem)
        if scope["method"] not in BODY_METHODS:
            return receive
        # Open311 clients post with an api_key, not a session cookie: no page, no CSRF token (like /api/).
        page = not scope["path"].startswith(("/api/", "/open311/"))
        if page and not csrf.same_origin(scope, _headers(scope)):
            raise Refused(403, "forbidden", "this form was sent from another site; open the page here")
        limit = body_limit(scope["path"])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise _too_large(limit)
            except ValueError:
                raise Refused(400, "bad_request", "the Content-Length header is not a number") from None
        body = await _read(receive, limit)
        ctype = (headers.get(b"content-type") or "").split(";")[0].strip().lower()
        token = headers.get(csrf.HEADER.encode())
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            found = await _form_problem(scope, body, limit)
            if isinstance(found, tuple):
                status, message = found
                raise Refused(status, "too_large" if status == 413 else "invalid", message)
            token = token or found
        elif body and (ctype == "application/json" or ctype.endswith("+json") or not ctype):
            problem = _json_problem(body)
            if problem:
                raise Refused(400, "bad_request", problem)
        elif body and (ctype.startswith("text/") or ctype.endswith("yaml")) and _RAW_CONTROL.search(body):
            raise Refused(400, "bad_request", "control characters are not allowed in the request body")
        if page and not csrf.valid(_secret(scope), seed, token):
            raise Refused(
                403,
                "forbidden",
                "the form has expired or did not come from this site; reload the page and retry",
            )
        return replay_body(body, receive)
