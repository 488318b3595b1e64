"""FastAPI dependencies shared by the routers: the runtime and the acting user.

Both are ``async`` so FastAPI calls them on the event loop instead of a worker thread: they are quick
(a token check and a cached user look-up that hits the database at most every few seconds).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer

from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.auth.service import decode_token
from haoban.errors import Unauthorized
from haoban.runtime import Runtime
from haoban.security import csrf

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_actor(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    rt: Runtime = request.app.state.runtime
    # Pages authenticate with the same token kept in an HttpOnly cookie, for reading only: a change
    # through the JSON API needs the bearer header, which another site's page cannot send. The two
    # read-only queries the pages' scripts POST also need the page's CSRF token.
    if not token and request.method not in csrf.SAFE_METHODS:
        cookie = request.cookies.get("haoban_token")
        if cookie and request.url.path in csrf.COOKIE_QUERY_POSTS:
            if csrf.valid(
                request.app.state.runtime.settings.secret_key,
                csrf.seed_of(request.scope),
                request.headers.get(csrf.HEADER),
            ):
                token = cookie
        elif cookie:
            raise Unauthorized("changes through the API need 'Authorization: Bearer <token>', not the cookie")
    elif not token:
        token = request.cookies.get("haoban_token")
    if not token:
        raise Unauthorized("log in first: POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'")
    user_id, version = decode_token(token, secret=rt.settings.secret_key)
    return rt.actors.get(rt.db.session, user_id, version)


async def get_actor_or_citizen(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    """The logged-in user, or the citizen (no account) when the request carries no token."""
    if not (token or request.cookies.get("haoban_token")):
        return CITIZEN_ACTOR
    return await get_actor(request, token)


def client_address(request: Request) -> str:
    """The caller's address, the key of rate limits and the login audit.

    ``X-Forwarded-For`` counts only when the peer is one of ``HAOBAN_TRUSTED_PROXIES``; then the
    right-most address not itself a trusted proxy is the client (what a client writes further left
    is its own claim).
    """
    peer = request.client.host if request.client else "unknown"
    networks = request.app.state.runtime.settings.trusted_networks
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return peer


def _trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


# Integers in paths and queries are bounded: ids are 32-bit on PostgreSQL (``integer``), and a number
# past what the database stores must be a 422, not an overflow deep in a driver.
MAX_ID = 2**31 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the record's id")]
OptionalRecordId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ActorDep = Annotated[Actor, Depends(get_actor)]
ActorOrCitizenDep = Annotated[Actor, Depends(get_actor_or_citizen)]
