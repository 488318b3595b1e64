"""Directory endpoints: departments, districts, categories and staff accounts. Thin: the service
checks roles and rules; this module parses, calls and shapes."""

from __future__ import annotations

from fastapi import APIRouter

from haoban.auth.models import User
from haoban.deps import ActorDep, RuntimeDep
from haoban.directory import service
from haoban.directory.schemas import (
    CategoryIn,
    CategoryOut,
    DepartmentIn,
    DepartmentOut,
    DistrictIn,
    DistrictOut,
    UserIn,
    UserOut,
    UserPatch,
)
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["directory"])


def user_out(rt: Runtime, u: User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        department=rt.directory.department_code(u.department_id),
        active=u.active,
    )


@router.get("/departments", response_model=list[DepartmentOut], summary="Departments (承办单位)")
def list_departments(rt: RuntimeDep, actor: ActorDep) -> list[DepartmentOut]:
    with rt.db.read() as session:
        return [
            DepartmentOut.model_validate(d, from_attributes=True) for d in service.list_departments(session)
        ]


@router.post(
    "/admin/departments",
    status_code=201,
    response_model=DepartmentOut,
    summary="Create or update a department",
)
def put_department(rt: RuntimeDep, actor: ActorDep, data: DepartmentIn) -> DepartmentOut:
    with rt.db.write() as session:
        dept = service.upsert_department(session, actor=actor, **data.model_dump())
        out = DepartmentOut.model_validate(dept, from_attributes=True)
    rt.invalidate()
    return out


@router.get("/districts", response_model=list[DistrictOut], summary="Districts and counties")
def list_districts(rt: RuntimeDep, actor: ActorDep) -> list[DistrictOut]:
    with rt.db.read() as session:
        return [DistrictOut.model_validate(d, from_attributes=True) for d in service.list_districts(session)]


@router.post(
    "/admin/districts", status_code=201, response_model=DistrictOut, summary="Create or update a district"
)
def put_district(rt: RuntimeDep, actor: ActorDep, data: DistrictIn) -> DistrictOut:
    with rt.db.write() as session:
        out = DistrictOut.model_validate(
            service.upsert_district(session, actor=actor, **data.model_dump()), from_attributes=True
        )
    rt.invalidate()
    return out


@router.get(
    "/categories", response_model=list[CategoryOut], summary="The appeal category tree (flat, with paths)"
)
def list_categories(rt: RuntimeDep, actor: ActorDep, level: int | None = None) -> list[CategoryOut]:
    return [
        CategoryOut.model_validate(c, from_attributes=True)
        for c in service.list_categories(rt.directory, level=level)
    ]


@router.post(
    "/admin/categories", status_code=201, response_model=CategoryOut, summary="Add a category under a parent"
)
def add_category(rt: RuntimeDep, actor: ActorDep, data: CategoryIn) -> CategoryOut:
    with rt.db.write() as session:
        out = CategoryOut.model_validate(
            service.add_category(session, actor=actor, name=data.name, parent_code=data.parent_code),
            from_attributes=True,
        )
    rt.invalidate()
    return out


@router.get("/admin/users", response_model=list[UserOut], summary="Staff accounts")
def list_users(rt: RuntimeDep, actor: ActorDep) -> list[UserOut]:
    with rt.db.read() as session:
        return [user_out(rt, u) for u in service.list_users(session, actor=actor)]


@router.post("/admin/users", status_code=201, response_model=UserOut, summary="Create a staff account")
def create_user(rt: RuntimeDep, actor: ActorDep, data: UserIn) -> UserOut:
    with rt.db.write() as session:
        return user_out(rt, service.create_user(session, actor=actor, **data.model_dump()))


@router.patch(
    "/admin/users/{username}", response_model=UserOut, summary="Disable, enable or reset a staff account"
)
def patch_user(rt: RuntimeDep, actor: ActorDep, username: str, data: UserPatch) -> UserOut:
    with rt.db.write() as session:
        out = user_out(rt, service.update_user(session, actor=actor, username=username, **data.model_dump()))
    rt.actors.clear()
    return out
