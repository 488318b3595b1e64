"""The service catalogue (政务服务事项目录): items a department handles, with their guide (办事指南).

An item's code is its stable key: bundles name it in their BPMN tasks, applications and licences refer
to it, and a re-import updates the item with the same code. Its materials are rows of their own so
that the metrics (how many materials the government already holds) are a query, not a scan of JSON.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import Department


class ItemKind(enum.StrEnum):
    IMMEDIATE = "immediate"  # 即办件: decided on the spot, promised 0 working days
    PROMISED = "promised"  # 承诺件: decided within the promised working days


class OnlineLevel(enum.StrEnum):
    FULL = "full"  # 全程网办: applied for and finished online, no visit
    APPOINTMENT = "appointment"  # 网上预约+窗口: applied for / booked online, one visit to a window
    WINDOW = "window"  # 窗口办理: at a window only


class MaterialForm(enum.StrEnum):
    ORIGINAL = "original"  # 原件
    COPY = "copy"  # 复印件
    BOTH = "both"  # 原件及复印件


class Audience(enum.StrEnum):
    PERSON = "person"  # 个人
    BUSINESS = "business"  # 法人 (companies and organisations)
    BOTH = "both"


# (zh, en) labels; the Chinese label is also accepted on import.
KIND_LABELS: dict[str, tuple[str, str]] = {
    ItemKind.IMMEDIATE: ("即办件", "immediate"),
    ItemKind.PROMISED: ("承诺件", "promised"),
}
ONLINE_LABELS: dict[str, tuple[str, str]] = {
    OnlineLevel.FULL: ("全程网办", "fully online"),
    OnlineLevel.APPOINTMENT: ("网上预约+窗口", "online booking + one visit"),
    OnlineLevel.WINDOW: ("窗口办理", "at a window"),
}
FORM_LABELS: dict[str, tuple[str, str]] = {
    MaterialForm.ORIGINAL: ("原件", "original"),
    MaterialForm.COPY: ("复印件", "copy"),
    MaterialForm.BOTH: ("原件及复印件", "original and copy"),
}
AUDIENCE_LABELS: dict[str, tuple[str, str]] = {
    Audience.PERSON: ("个人", "individuals"),
    Audience.BUSINESS: ("法人", "businesses"),
    Audience.BOTH: ("个人和法人", "individuals and businesses"),
}


class ServiceItem(Base):
    __tablename__ = "catalog_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    # The parent item (主项) where one exists, e.g. 出生登记 under 户口登记.
    group_name: Mapped[str | None] = mapped_column(String(200))
    # The national item type: 行政许可, 行政确认, 行政给付, 公共服务 …
    task_type: Mapped[str | None] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(16), default=Audience.PERSON.value)
    kind: Mapped[str] = mapped_column(String(16))
    # Working days (the calendar's, with 调休); promised ≤ statutory, 0 = the same day.
    statutory_days: Mapped[int] = mapped_column(Integer)
    promised_days: Mapped[int] = mapped_column(Integer)
    online: Mapped[str] = mapped_column(String(16), index=True)
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)  # 0 = free of charge
    fee_note: Mapped[str | None] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str | None] = mapped_column(Text)  # 受理条件
    form_name: Mapped[str | None] = mapped_column(String(200))  # the application form it needs
    location: Mapped[str | None] = mapped_column(String(300))  # 办理地点
    hours: Mapped[str | None] = mapped_column(String(200))  # 办理时间
    # What the applicant receives (e.g. 出生医学证明); issued as an electronic licence of this item.
    result_name: Mapped[str | None] = mapped_column(String(100))
    life_events: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: 出生, 开办企业 …
    # What people call it (俗称, e.g. 二手房过户 for 不动产转移登记): JSON list, searched like the name.
    keywords: Mapped[str] = mapped_column(Text, default="[]")
    source: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    department: Mapped[Department] = relationship(lazy="joined")
    materials: Mapped[list[ItemMaterial]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ItemMaterial.position"
    )


class ItemMaterial(Base):
    """One required material (申请材料) of an item."""

    __tablename__ = "catalog_materials"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(16), default=MaterialForm.ORIGINAL.value)
    count: Mapped[int] = mapped_column(Integer, default=1)
    # 容缺受理: the application may be accepted without it, on a written promise to bring it later.
    tolerance: Mapped[bool] = mapped_column(Boolean, default=False)
    # The government already holds it: the code of the catalogue item whose result (an electronic
    # licence) this material is. The applicant is not asked for it when the licence store has one.
    licence_kind: Mapped[str | None] = mapped_column(String(80), index=True)
    note: Mapped[str | None] = mapped_column(String(300))

    @property
    def held_by_government(self) -> bool:
        return self.licence_kind is not None
