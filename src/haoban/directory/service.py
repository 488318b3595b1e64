"""Directory rules: look-ups by code, an in-memory snapshot for the hot paths, admin changes, staff accounts.

Every "unknown department / district / category" answer comes from the snapshot's ``require_*``
look-ups, so the message and the field it names are the same everywhere.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.models import User
from haoban.auth.passwords import password_problem
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES, STAFF_ROLES, Role
from haoban.auth.service import hash_password, revoke_tokens
from haoban.directory.models import Category, Department, District
from haoban.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class DeptRef:
    id: int
    code: str
    name: str
    kind: str
    active: bool
    name_en: str | None = None


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    name: str
    level: int
    path: str
    parent_id: int | None
    ancestors: tuple[str, ...]  # codes from the root down to and including this one
    name_en: str | None = None  # from the taxonomy's English names (``category_english``)
    path_en: str | None = None  # "Level 1/Level 2/Level 3" in English, when every level has a name

    def label(self, lang: str) -> str:
        """The category's path as a page shows it: in English when the taxonomy names every level."""
        return (self.path_en or self.path) if lang == "en" else self.path


@dataclass(frozen=True)
class DistrictRef:
    id: int
    code: str
    name: str
    name_en: str | None = None


@dataclass
class DirectorySnapshot:
    """Read-only copy of the directory, rebuilt when an admin changes it."""

    departments: dict[str, DeptRef] = field(default_factory=dict)
    departments_by_id: dict[int, DeptRef] = field(default_factory=dict)
    districts: dict[str, DistrictRef] = field(default_factory=dict)  # by code and by name
    districts_by_id: dict[int, DistrictRef] = field(default_factory=dict)
    categories: dict[str, CategoryRef] = field(default_factory=dict)
    categories_by_id: dict[int, CategoryRef] = field(default_factory=dict)

    def department(self, code: str) -> DeptRef | None:
        return self.departments.get(code)

    def district(self, code_or_name: str) -> DistrictRef | None:
        return self.districts.get(code_or_name)

    def category(self, code_or_path: str) -> CategoryRef | None:
        return self.categories.get(code_or_path)

    # The same look-ups for input. ``lookup_*`` notes a problem in ``errors`` under ``field`` (for forms
    # that report every field at once); ``require_*`` raises it at once as a 422 naming the field.
    def lookup_department(
        self, code: str, *, errors: dict[str, str], field: str = "department", active: bool = True
    ) -> DeptRef | None:
        ref = self.departments.get(code)
        if ref is None or (active and not ref.active):
            errors[field] = (
                f"unknown or inactive department {code!r}" if active else f"unknown department {code!r}"
            )
            return None
        return ref

    def lookup_district(
        self, code_or_name: str, *, errors: dict[str, str], field: str = "district"
    ) -> DistrictRef | None:
        ref = self.districts.get(code_or_name)
        if ref is None:
            errors[field] = f"unknown district {code_or_name!r}"
        return ref

    def lookup_category(
        self, code_or_path: str, *, errors: dict[str, str], field: str = "category"
    ) -> CategoryRef | None:
        ref = self.categories.get(code_or_path)
        if ref is None:
            errors[field] = f"unknown category {code_or_path!r}"
        return ref

    def require_department(self, code: str, *, field: str = "department", active: bool = True) -> DeptRef:
        errors: dict[str, str] = {}
        return self.lookup_department(code, errors=errors, field=field, active=active) or _raise(errors)

    def require_district(self, code_or_name: str, *, field: str = "district") -> DistrictRef:
        errors: dict[str, str] = {}
        return self.lookup_district(code_or_name, errors=errors, field=field) or _raise(errors)

    def require_category(self, code_or_path: str, *, field: str = "category") -> CategoryRef:
        errors: dict[str, str] = {}
        return self.lookup_category(code_or_path, errors=errors, field=field) or _raise(errors)

    def department_code(self, department_id: int | None) -> str | None:
        ref = self.departments_by_id.get(department_id) if department_id is not None else None
        return ref.code if ref else None

    def department_name(self, department_id: int | None) -> str | None:
        ref = self.departments_by_id.get(department_id) if department_id is not None else None
        return ref.name if ref else None


def _raise(errors: dict[str, str]) -> NoReturn:
    ((field, problem),) = errors.items()
    raise Invalid(problem, fields={field: problem})


# The English names of the category taxonomy, a data file beside the tree (名称,name_en: one Chinese
# name a line, the same word the same everywhere in the tree).
CATEGORY_ENGLISH = "categories_en.csv"


def category_english(path: Path) -> dict[str, str]:
    """Chinese category name -> English name, from ``path`` (an empty table when there is no file)."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        return {row[0].strip(): row[1].strip() for row in reader if len(row) >= 2 and row[1].strip()}


def load_snapshot(session: Session, english: dict[str, str] | None = None) -> DirectorySnapshot:
    snap = DirectorySnapshot()
    for d in session.scalars(select(Department)):
        ref = DeptRef(d.id, d.code, d.name, d.kind, d.active, d.name_en)
        snap.departments[d.code] = ref
        snap.departments_by_id[d.id] = ref
    for dist in session.scalars(select(District)):
        dref = DistrictRef(dist.id, dist.code, dist.name, dist.name_en)
        snap.districts[dist.code] = dref
        snap.districts[dist.name] = dref
        snap.districts_by_id[dist.id] = dref
    rows = session.execute(
        select(Category.id, Category.code, Category.name, Category.level, Category.path, Category.parent_id)
    ).all()
    by_id = {r.id: r for r in rows}
    for r in rows:
        chain: list[str] = []
        node = r
        while node is not None:
            chain.append(node.code)
            node = by_id.get(node.parent_id) if node.parent_id else None
        names_en = [english.get(n) for n in r.path.split("/")] if english else []
        path_en = "/".join(n for n in names_en if n) if names_en and all(names_en) else None
        cref = CategoryRef(
            r.id,
            r.code,
            r.name,
            r.level,
            r.path,
            r.parent_id,
            tuple(reversed(chain)),
            (english or {}).get(r.name),
            path_en,
        )
        snap.categories[r.code] = cref
        snap.categories[r.path] = cref
        snap.categories_by_id[r.id] = cref
    return snap


# --- seeding and admin changes -------------------------------------------------------------------


def load_categories_csv(session: Session, path: Path) -> int:
    """Load the 3-level category tree (一级分类, 二级分类, 三级分类) idempotently; returns rows added."""
    added = 0
    existing = {c.path: c for c in session.scalars(select(Category))}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            names = [n.strip() for n in row if n.strip()]
            parent: Category | None = None
            for level, name in enumerate(names, start=1):
                cat_path = "/".join(names[:level])
                cat = existing.get(cat_path)
                if cat is None:
                    code = f"C{level}-{len(existing) + 1:04d}"
                    cat = Category(code=code, name=name, level=level, path=cat_path, parent=parent)
                    session.add(cat)
                    session.flush()
                    existing[cat_path] = cat
                    added += 1
                parent = cat
    return added


def upsert_department(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    name_en: str | None = None,
    hotline: str | None = None,
    kind: str = "department",
    district_code: str | None = None,
    active: bool = True,
) -> Department:
    require_role(actor, *ADMIN_ROLES)
    district_id = None
    if district_code:
        district = session.scalar(select(District).where(District.code == district_code))
        if district is None:
            raise Invalid(
                f"unknown district {district_code!r}",
                fields={"district_code": f"unknown district {district_code!r}"},
            )
        district_id = district.id
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        dept = Department(code=code)
        session.add(dept)
    dept.name, dept.name_en, dept.hotline, dept.kind = name, name_en, hotline, kind
    dept.district_id, dept.active = district_id, active
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"another department is already called {name!r}") from None
    return dept


def upsert_district(
    session: Session,
    *,
    actor: Actor,
    code: str,
    name: str,
    name_en: str | None = None,
    kind: str = "district",
) -> District:
    require_role(actor, *ADMIN_ROLES)
    district = session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code)
        session.add(district)
    district.name, district.name_en, district.kind = name, name_en, kind
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"another district is already called {name!r}") from None
    return district


def add_category(session: Session, *, actor: Actor, name: str, parent_code: str | None = None) -> Category:
    """A category under ``parent_code`` (or a new first-level one); the tree has three levels."""
    require_role(actor, *ADMIN_ROLES)
    parent = None
    if parent_code:
        parent = session.scalar(select(Category).where(Category.code == parent_code))
        if parent is None:
            raise Invalid("unknown parent", fields={"parent_code": f"no category {parent_code!r}"})
        if parent.level >= 3:
            raise Invalid("the tree has three levels", fields={"parent_code": "is already level 3"})
    path = f"{parent.path}/{name}" if parent else name
    if session.scalar(select(Category.id).where(Category.path == path)):
        raise Conflict(f"category {path!r} already exists")
    level = parent.level + 1 if parent else 1
    count = session.scalar(select(Category.id).order_by(Category.id.desc()).limit(1)) or 0
    cat = Category(code=f"C{level}-{count + 1:04d}", name=name, level=level, path=path, parent=parent)
    session.add(cat)
    session.flush()
    return cat


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.kind, Department.code)))


def list_districts(session: Session) -> list[District]:
    return list(session.scalars(select(District).order_by(District.code)))


def list_categories(directory: DirectorySnapshot, *, level: int | None = None) -> list[CategoryRef]:
    cats = sorted(directory.categories_by_id.values(), key=lambda c: c.path)
    return [c for c in cats if level is None or c.level == level]


# --- staff accounts (人员账号) ----------------------------------------------------------------------


def list_users(session: Session, *, actor: Actor) -> list[User]:
    require_role(actor, *READ_CONFIG_ROLES)
    return list(session.scalars(select(User).order_by(User.username)))


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department_code: str | None = None,
) -> User:
    require_role(actor, *ADMIN_ROLES)
    errors: dict[str, str] = {}
    staff = [str(r) for r in STAFF_ROLES]
    if role not in staff:
        errors["role"] = f"unknown role {role!r}; one of {', '.join(staff)}"
    problem = password_problem(password, username=username, role=role)
    if problem:
        errors["password"] = problem
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").isalnum():
        errors["username"] = "1–64 letters, digits, '-' or '_'"
    dept_id = None
    if role == Role.HANDLER and not department_code:
        errors["department_code"] = "a handler belongs to a department"
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            errors["department_code"] = f"unknown department {department_code!r}"
        else:
            dept_id = dept.id
    if errors:
        raise Invalid("cannot create user", fields=errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        department_id=dept_id,
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    active: bool | None = None,
    password: str | None = None,
    display_name: str | None = None,
    role: str | None = None,
) -> User:
    """Disable, enable, reset or re-role an account; nobody disables their own.

    A new password, a new role or disabling revokes every token the account holds.
    """
    require_role(actor, *ADMIN_ROLES)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if role is not None and role != user.role:
        staff = [str(r) for r in STAFF_ROLES]
        if role not in staff:
            raise Invalid("cannot change role", fields={"role": f"unknown role; one of {', '.join(staff)}"})
        if role == Role.HANDLER and user.department_id is None:
            raise Invalid("cannot change role", fields={"role": "a handler belongs to a department"})
        if user.id == actor.id:
            raise Conflict("you cannot change your own role")
        user.role = role
        revoke_tokens(user)
    if active is not None:
        if not active and user.id == actor.id:
            raise Conflict("you cannot disable your own account")
        if not active and user.active:
            revoke_tokens(user)
        user.active = active
    if password:
        problem = password_problem(password, username=user.username, role=user.role)
        if problem:
            raise Invalid("the password does not meet the policy", fields={"password": problem})
        user.password_hash = hash_password(password)
        revoke_tokens(user)
    if display_name:
        user.display_name = display_name
    session.flush()
    return user
