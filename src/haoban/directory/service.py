"""Directory rules: lookups by code, an in-memory snapshot for the intake hot path, admin changes."""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.directory.models import Category, Department, District, Role, User
from haoban.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class DeptRef:
    id: int
    code: str
    name: str
    kind: str
    active: bool


@dataclass(frozen=True)
class CategoryRef:
    id: int
    code: str
    name: str
    level: int
    path: str
    parent_id: int | None
    ancestors: tuple[str, ...]  # codes from the root down to and including this one


@dataclass(frozen=True)
class DistrictRef:
    id: int
    code: str
    name: str


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


def load_snapshot(session: Session) -> DirectorySnapshot:
    snap = DirectorySnapshot()
    for d in session.scalars(select(Department)):
        ref = DeptRef(d.id, d.code, d.name, d.kind, d.active)
        snap.departments[d.code] = ref
        snap.departments_by_id[d.id] = ref
    for dist in session.scalars(select(District)):
        dref = DistrictRef(dist.id, dist.code, dist.name)
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
        cref = CategoryRef(r.id, r.code, r.name, r.level, r.path, r.parent_id, tuple(reversed(chain)))
        snap.categories[r.code] = cref
        snap.categories[r.path] = cref
        snap.categories_by_id[r.id] = cref
    return snap


class SnapshotCache:
    """Caches the snapshot; admin changes call ``invalidate`` and other processes see it within ``ttl``."""

    def __init__(self, loader: callable, ttl: float = 10.0) -> None:  # type: ignore[valid-type]
        self._loader = loader
        self._ttl = ttl
        self._value: DirectorySnapshot | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> DirectorySnapshot:
        value = self._value
        if value is not None and time.monotonic() - self._at < self._ttl:
            return value
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self._ttl:
                self._value = self._loader()
                self._at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


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
    code: str,
    name: str,
    name_en: str | None = None,
    hotline: str | None = None,
    kind: str = "department",
    district_code: str | None = None,
    active: bool = True,
) -> Department:
    district_id = None
    if district_code:
        district = session.scalar(select(District).where(District.code == district_code))
        if district is None:
            raise Invalid(
                "unknown district", fields={"district_code": f"no district with code {district_code!r}"}
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
    session: Session, *, code: str, name: str, name_en: str | None = None, kind: str = "district"
) -> District:
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


def get_department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise NotFound(f"no department with code {code!r}")
    return dept


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department_code: str | None = None,
) -> User:
    from haoban.auth.service import hash_password

    errors: dict[str, str] = {}
    if role not in {r.value for r in Role}:
        errors["role"] = f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}"
    if len(password) < 4:
        errors["password"] = "at least 4 characters"
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").isalnum():
        errors["username"] = "1–64 letters, digits, '-' or '_'"
    dept_id = None
    if role == Role.HANDLER and not department_code:
        errors["department_code"] = "a handler belongs to a department"
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            errors["department_code"] = f"no department with code {department_code!r}"
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


def list_departments(session: Session) -> Iterable[Department]:
    return session.scalars(select(Department).order_by(Department.kind, Department.code))
