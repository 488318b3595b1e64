"""CSRF protection and security headers for the server-rendered pages.

HOW A FORM GETS ITS TOKEN (for everyone adding pages): put ``{{ csrf_field() }}`` inside every
``<form method="post">``; that is all. The edge guard (``haoban.security.edge``) then checks every
state-changing request to a page (POST/PUT/PATCH/DELETE outside ``/api/``):

1. **Origin / Referer**: when the browser names where the request comes from, it must be this very
   origin (scheme, host and port). A page on another origin of the same site is refused (403).
2. **Token**: a form must carry ``csrf_token`` and a script's request the ``X-CSRF-Token`` header
   (``app.js`` sends it, read from ``<meta name="csrf-token">``), equal to an HMAC under the app's
   secret of the browser's ``haoban_csrf`` cookie. Another origin cannot read the token, and cannot
   compute one for a cookie it planted without the secret.

The JSON API is not cookie-authenticated for writes at all (``haoban.deps.get_actor``): a bearer token
cannot be sent by another site's page. A test renders every page and fails on a POST form without
the token (tests/security/test_csrf_headers.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from jinja2 import pass_context
from markupsafe import Markup

COOKIE = "haoban_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Scripts on the pages call these read-only JSON queries with the session cookie (and the header).
COOKIE_QUERY_POSTS = frozenset(
    {"/api/v1/dispatch/explain", "/api/v1/duplicates/check", "/api/v1/emergency/check"}
)


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def valid(secret: str, seed: str | None, token: str | None) -> bool:
    if not seed or not token:
        return False
    return hmac.compare_digest(token_for(secret, seed), token)


def seed_of(scope: dict[str, Any] | Any) -> str | None:
    """The browser's seed for this request (set by the edge guard before any page renders)."""
    state = scope.get("state") or {}
    return state.get("csrf_seed")


def same_origin(scope: Any, headers: dict[str, str]) -> bool:
    """False when the browser says the request comes from another origin (Origin, else Referer)."""
    source = headers.get("origin") or headers.get("referer")
    if not source:
        return True  # non-browser clients; browsers send Origin on every cross-origin POST
    if source == "null":
        return False
    parts = urlsplit(source)
    host = headers.get("host", "")
    scheme = scope.get("scheme", "http")
    return parts.scheme == scheme and parts.netloc.lower() == host.lower()


@pass_context
def csrf_field(context: Any) -> Markup:
    """``{{ csrf_field() }}``: the hidden input every POST form carries."""
    request = context.get("request")
    token = csrf_token_of(request)
    return Markup(f'<input type="hidden" name="{FIELD}" value="{token}">')


@pass_context
def csrf_meta(context: Any) -> str:
    return csrf_token_of(context.get("request"))


def csrf_token_of(request: Any) -> str:
    if request is None:
        return ""
    seed = seed_of(request.scope)
    rt = getattr(request.app.state, "runtime", None)
    if not seed or rt is None:
        return ""
    return token_for(rt.settings.secret_key, seed)


def security_headers(scope: Any) -> list[tuple[bytes, bytes]]:
    """Headers on every answer: no framing, no sniffing, no inline script, HTTPS remembered."""
    out = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", csp_for(scope)),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if scope.get("scheme") == "https":
        out.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return out


# Styles may be inline (the chart library and the API docs set them); scripts only from this origin.
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    b"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def tile_origin(template: str) -> str | None:
    """The origin of a map tile URL template, as a CSP source: ``https://t{s}.tianditu.gov.cn/...`` →
    ``https://*.tianditu.gov.cn``. None for an empty or unusable template."""
    m = re.match(r"^(https?)://([^/?#]+)", template.strip())
    if not m:
        return None
    host = re.sub(r"^[^.]*\{s\}[^.]*", "*", m.group(2))
    if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
        return None
    return f"{m.group(1)}://{host}"


def csp_for(scope: Any) -> bytes:
    """The policy, with the city's map tile server allowed as an image source when one is set."""
    app = scope.get("app")
    rt = getattr(getattr(app, "state", None), "runtime", None)
    tiles = getattr(getattr(rt, "settings", None), "map_tiles", "") or ""
    origin = tile_origin(tiles) if tiles else None
    if origin is None:
        return CSP
    return CSP.replace(b"img-src 'self' data: blob:;", f"img-src 'self' data: blob: {origin};".encode())
