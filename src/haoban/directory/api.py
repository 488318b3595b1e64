"""Admin endpoints for departments, districts, categories and staff accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from haoban.auth.rbac import ADMIN_ROLES, READ_CONFIG_ROLES, require_role
from haoban.deps import ActorDep, RuntimeDep
from haoban.directory import service
from haoban.directory.models import Category, District, User
from haoban.errors import Conflict, Invalid, NotFound

router = APIRouter(prefix="/api/v1", tags=["directory"])


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=150)
    hotline: str | None = Field(default=None, max_length=20)
    kind: str = Field(default="department", pattern="^(department|district|utility)$")
    district_code: str | None = None
    active: bool = True


class DistrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=50)
    name_en: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="district", pattern="^(district|county|city)$")


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^/]+$")
    parent_code: str | None = None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=4, max_length=200)
    role: str
    display_name: str | None = Field(default=None, max_length=100)
    department_code: str | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=4, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)


def _dept(d: Any) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "name_en": d.name_en,
        "hotline": d.hotline,
        "kind": d.kind,
        "active": d.active,
    }


def _user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "department": u.department.code if u.department else None,
        "active": u.active,
    }


@router.get("/departments", summary="Departments (承办单位) — any signed-in staff")
def list_departments(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [_dept(d) for d in service.list_departments(session)]


@router.post("/admin/departments", status_code=201, summary="Create or update a department")
def put_department(rt: RuntimeDep, actor: ActorDep, data: DepartmentIn) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    with rt.db.write() as session:
        dept = service.upsert_department(session, **data.model_dump())
        out = _dept(dept)
    rt.invalidate()
    return out


@router.get("/districts", summary="Districts and counties")
def list_districts(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [
            {"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind}
            for d in session.scalars(select(District).order_by(District.code))
        ]


@router.post("/admin/districts", status_code=201, summary="Create or update a district")
def put_district(rt: RuntimeDep, actor: ActorDep, data: DistrictIn) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    with rt.db.write() as session:
        d = service.upsert_district(session, **data.model_dump())
        out = {"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind}
    rt.invalidate()
    return out


@router.get("/categories", summary="The appeal category tree (flat, with paths)")
def list_categories(rt: RuntimeDep, actor: ActorDep, level: int | None = None) -> list[dict[str, Any]]:
    cats = sorted(rt.directory.categories_by_id.values(), key=lambda c: c.path)
    return [
        {"code": c.code, "name": c.name, "level": c.level, "path": c.path}
        for c in cats
        if level is None or c.level == level
    ]


@router.post("/admin/categories", status_code=201, summary="Add a category under a parent")
def add_category(rt: RuntimeDep, actor: ActorDep, data: CategoryIn) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    with rt.db.write() as session:
        parent = None
        if data.parent_code:
            parent = session.scalar(select(Category).where(Category.code == data.parent_code))
            if parent is None:
                raise Invalid("unknown parent", fields={"parent_code": f"no category {data.parent_code!r}"})
            if parent.level >= 3:
                raise Invalid("the tree has three levels", fields={"parent_code": "is already level 3"})
        path = f"{parent.path}/{data.name}" if parent else data.name
        if session.scalar(select(Category.id).where(Category.path == path)):
            raise Conflict(f"category {path!r} already exists")
        level = parent.level + 1 if parent else 1
        count = session.scalar(select(Category.id).order_by(Category.id.desc()).limit(1)) or 0
        cat = Category(
            code=f"C{level}-{count + 1:04d}", name=data.name, level=level, path=path, parent=parent
        )
        session.add(cat)
        session.flush()
        out = {"code": cat.code, "name": cat.name, "level": cat.level, "path": cat.path}
    rt.invalidate()
    return out


@router.get("/admin/users", summary="Staff accounts")
def list_users(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    require_role(actor, *READ_CONFIG_ROLES)
    with rt.db.read() as session:
        return [_user(u) for u in session.scalars(select(User).order_by(User.username))]


@router.post("/admin/users", status_code=201, summary="Create a staff account")
def create_user(rt: RuntimeDep, actor: ActorDep, data: UserIn) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    with rt.db.write() as session:
        user = service.create_user(session, **data.model_dump())
        return _user(user)


@router.patch("/admin/users/{username}", summary="Disable, enable or reset a staff account")
def patch_user(rt: RuntimeDep, actor: ActorDep, username: str, data: UserPatch) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    from haoban.auth.service import hash_password

    with rt.db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user {username!r}")
        if data.active is not None:
            if not data.active and user.id == actor.id:
                raise Conflict("you cannot disable your own account")
            user.active = data.active
        if data.password:
            user.password_hash = hash_password(data.password)
        if data.display_name:
            user.display_name = data.display_name
        session.flush()
        out = _user(user)
    rt.actors.clear()
    return out
