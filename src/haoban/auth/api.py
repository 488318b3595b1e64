from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from haoban.auth.service import authenticate, issue_token
from haoban.deps import ActorDep, RuntimeDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", summary="Log in (OAuth2 password flow) and get a bearer token")
def login(rt: RuntimeDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, Any]:
    with rt.db.read() as session:
        user = authenticate(session, username=form.username, password=form.password)
        token = issue_token(user, secret=rt.settings.secret_key, minutes=rt.settings.token_minutes)
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": rt.settings.token_minutes * 60,
            "role": user.role,
            "department": user.department.code if user.department else None,
        }


@router.get("/me", summary="Who am I")
def me(actor: ActorDep) -> dict[str, Any]:
    return {
        "id": actor.id,
        "username": actor.username,
        "name": actor.name,
        "role": actor.role,
        "department": actor.department_code,
    }
