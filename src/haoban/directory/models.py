from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """Staff roles. Citizens have no account: they track with a code and phone digits."""

    OPERATOR = "operator"  # 话务员: registers calls, answers from the knowledge base
    DISPATCHER = "dispatcher"  # 派单员: dispatches, reviews returns and replies
    HANDLER = "handler"  # 承办人: works a department's orders
    SUPERVISOR = "supervisor"  # 督办员: supervises, approves extensions, call-backs
    ADMIN = "admin"  # 管理员
    AUDITOR = "auditor"  # 审计: reads everything, changes nothing


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(150))
    # The former department hotline merged into 12345 (e.g. 12315), if any.
    hotline: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="department")  # department / district / utility
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="district")  # district / county / city


class Category(Base):
    """The 3-level appeal category tree (一级 / 二级 / 三级分类)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # "一级/二级/三级", for display and search.
    path: Mapped[str] = mapped_column(String(300))

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")
