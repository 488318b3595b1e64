"""Authentication endpoints: password login → bearer token, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from haoban.auth.service import authenticate, issue_token
from haoban.deps import ActorDep, RuntimeDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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


@router.post(
    "/token", response_model=TokenOut, summary="Log in (OAuth2 password flow) and get a bearer token"
)
def login(rt: RuntimeDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    with rt.db.read() as session:
        user = authenticate(session, username=form.username, password=form.password)
        token = issue_token(user, secret=rt.settings.secret_key, minutes=rt.settings.token_minutes)
        return TokenOut(
            access_token=token,
            token_type="bearer",
            expires_in=rt.settings.token_minutes * 60,
            role=user.role,
            department=rt.directory.department_code(user.department_id),
        )


@router.get("/me", response_model=MeOut, summary="Who am I")
def me(rt: RuntimeDep, actor: ActorDep) -> MeOut:
    return MeOut(
        id=actor.id,
        username=actor.username,
        name=actor.name,
        role=actor.role,
        department=rt.directory.department_code(actor.department_id),
    )
