"""Authentication endpoints: log in (throttled and audited), log out (revokes tokens), who am I, the
optional TOTP second factor, and the login audit for administrators and auditors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import pyotp
from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from haoban.auth import audit
from haoban.auth.login import log_in
from haoban.auth.models import User
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.auth.service import revoke_tokens
from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import Invalid, NotFound

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
admin_router = APIRouter(prefix="/api/v1/admin", tags=["auth"])
TOTP_ROLES = (Role.ADMIN, Role.SUPERVISOR)


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    role: str
    department: str | None


class MeOut(BaseModel):
    id: int | None
    username: str
    name: str
    role: str
    department: str | None
    second_factor: bool = False


class TotpSetupOut(BaseModel):
    secret: str = Field(description="base32 secret: send it back with a code to switch TOTP on")
    uri: str = Field(description="otpauth:// URI for an authenticator app (as a QR code)")


class TotpIn(BaseModel):
    code: str = Field(min_length=6, max_length=8, pattern=r"^\d+$")
    secret: str | None = Field(default=None, max_length=64, pattern=r"^[A-Z2-7]+=*$")


class LoginEventOut(BaseModel):
    at: datetime
    username: str
    user_id: int | None
    address: str
    via: str
    success: bool
    outcome: str


@router.post(
    "/token", response_model=TokenOut, summary="Log in (OAuth2 password flow) and get a bearer token"
)
def login(
    request: Request,
    rt: RuntimeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    otp: Annotated[str | None, Form(max_length=8, description="TOTP code, when switched on")] = None,
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    done = log_in(
        rt.db,
        username=username,
        password=password,
        otp=otp,
        address=client_address(request),
        via="api",
        secret=rt.settings.secret_key,
        minutes=rt.settings.token_minutes,
    )
    return TokenOut(
        access_token=done.token,
        token_type="bearer",
        expires_in=rt.settings.token_minutes * 60,
        role=done.role,
        department=rt.directory.department_code(done.department_id),
    )


@router.post("/logout", status_code=204, summary="Log out: every token of this account stops working")
def logout(rt: RuntimeDep, actor: ActorDep) -> Response:
    with rt.db.write() as session:
        user = session.get(User, actor.id)
        if user is not None:
            revoke_tokens(user)
    rt.actors.forget(actor.id or 0)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="Who am I")
def me(rt: RuntimeDep, actor: ActorDep) -> MeOut:
    with rt.db.read() as session:
        has_totp = bool(session.scalar(select(User.totp_secret).where(User.id == actor.id)))
    return MeOut(
        id=actor.id,
        username=actor.username,
        name=actor.name,
        role=actor.role,
        department=rt.directory.department_code(actor.department_id),
        second_factor=has_totp,
    )


@router.post(
    "/totp/setup",
    response_model=TotpSetupOut,
    summary="Second factor (admin, supervisor): a new TOTP secret to scan; not on until confirmed",
)
def totp_setup(actor: ActorDep) -> TotpSetupOut:
    require_role(actor, *TOTP_ROLES)
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=actor.username, issuer_name="haoban 12345")
    return TotpSetupOut(secret=secret, uri=uri)


@router.post("/totp/enable", status_code=204, summary="Switch the second factor on with a code from the app")
def totp_enable(rt: RuntimeDep, actor: ActorDep, data: TotpIn) -> Response:
    require_role(actor, *TOTP_ROLES)
    if not data.secret or not pyotp.TOTP(data.secret).verify(data.code, valid_window=1):
        raise Invalid("the code does not match the secret", fields={"code": "wrong or expired code"})
    with rt.db.write() as session:
        user = session.get(User, actor.id)
        if user is None:
            raise NotFound("no such account")
        user.totp_secret = data.secret
        revoke_tokens(user)  # log in again, with the code
    rt.actors.forget(actor.id or 0)
    return Response(status_code=204)


@router.post("/totp/disable", status_code=204, summary="Switch the second factor off (needs a current code)")
def totp_disable(rt: RuntimeDep, actor: ActorDep, data: TotpIn) -> Response:
    with rt.db.write() as session:
        user = session.get(User, actor.id)
        if user is None or not user.totp_secret:
            raise Invalid("the second factor is not on", fields={"code": "not switched on"})
        if not pyotp.TOTP(user.totp_secret).verify(data.code, valid_window=1):
            raise Invalid("wrong or expired code", fields={"code": "wrong or expired code"})
        user.totp_secret = None
    return Response(status_code=204)


@admin_router.get(
    "/login-events",
    response_model=list[LoginEventOut],
    summary="The login audit: who tried to log in, when, from where, and the outcome (newest first)",
)
def login_events(
    rt: RuntimeDep,
    actor: ActorDep,
    username: Annotated[str | None, Query(max_length=64)] = None,
    success: bool | None = None,
    address: Annotated[str | None, Query(max_length=64, description="an address or its beginning")] = None,
    since: Annotated[date | None, Query(description="from this day (the city's), included")] = None,
    until: Annotated[date | None, Query(description="to this day (the city's), included")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LoginEventOut]:
    filters = audit.LoginFilter(
        username=username,
        result=None if success is None else ("success" if success else "failure"),
        address=address,
        since=since,
        until=until,
    )
    with rt.db.read() as session:
        rows, _total = audit.login_events(
            session, actor=actor, filters=filters, tz=rt.settings.tz, page_size=limit
        )
        return [LoginEventOut.model_validate(e, from_attributes=True) for e in rows]
