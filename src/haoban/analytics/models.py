"""The dashboard's index on ``orders`` and its daily roll-ups.

Every dashboard figure filters orders by ``received_at`` and reads a handful of columns. This index
holds all of them, so the figures are read from the index alone (an index-only scan) rather than from
the wide order rows with their texts. Declared here, with the analytics domain that needs it;
created by migration 0004.

The daily roll-ups (migration 0030) hold, per local day of receipt, the counts every figure is made
of, at four grains: district × department, district, department and the whole city (key ``ALL`` for
"any", ``NONE`` for "no district / department"), so a year's figures add up a few hundred rows. They
are rebuilt a day at a time by the ``analytics.rollups`` job from the order rows; a day is read from
them only while it is built and unmarked (``haoban.orders.models.OrderDayMark``), see
``haoban.analytics.service.plan_for``.

The category and channel mixes are also kept per calendar month (migration 0038): a year's category
mix is ~12 rows per category instead of ~365. A month's rows are the sum of its days' rows, built by
the same job once every day of the month is built, and deleted with them whenever one of its days is
rebuilt (in the day's transaction), so they never disagree with the daily rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime
from haoban.orders.models import DAY_FIGURE_COLUMNS, Order

DASHBOARD_COLUMNS = DAY_FIGURE_COLUMNS

dashboard_index = Index("ix_orders_dashboard", *(getattr(Order, c) for c in DASHBOARD_COLUMNS))
# Open orders past their deadline (a figure that moves with the clock, so never rolled up).
overdue_index = Index(
    "ix_orders_status_deadline",
    Order.status,
    Order.handle_deadline,
    Order.received_at,
    Order.district_id,
    Order.lead_department_id,
    Order.replied_at,
)

ALL = -1  # the grain key for "any district / department"
NONE = 0  # the key for orders without a district / department (ids start at 1)

# The counts of a day's orders kept per grain (definitions: haoban.analytics.service).
ROLLED_COUNTS = (
    "received",
    "dispatched",
    "finished",
    "dispatched_finished",
    "finished_replied",
    "on_time",
    "called_back",
    "satisfied",
    "resolved",
    "auto_dispatched",
    "open",
    "finished_redone",
    "on_time_any",
    "misdispatched",
    "finished_returned",
    "returned_redone",
)


class DashboardDay(Base):
    """A local day whose roll-up rows were built from the order rows at ``built_at``."""

    __tablename__ = "dashboard_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DashboardDaily(Base):
    """The counts of the orders received on ``day`` in one grain (district, department)."""

    __tablename__ = "dashboard_daily"
    # Reads pick one grain and a range of days: the key leads with the grain. The district breakdown
    # (every district, one department or any) reads through the second index; a rebuild replaces a
    # day through the third.
    __table_args__ = (
        Index("ix_dashboard_daily_department_day", "department_key", "day"),
        Index("ix_dashboard_daily_day", "day"),
    )

    district_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_finished: Mapped[int] = mapped_column(Integer, default=0)
    finished_replied: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    called_back: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    auto_dispatched: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    finished_redone: Mapped[int] = mapped_column(Integer, default=0)
    on_time_any: Mapped[int] = mapped_column(Integer, default=0)
    misdispatched: Mapped[int] = mapped_column(Integer, default=0)
    finished_returned: Mapped[int] = mapped_column(Integer, default=0)
    returned_redone: Mapped[int] = mapped_column(Integer, default=0)


class DashboardDailyMix(Base):
    """Orders received on ``day`` per category (``kind`` "category", key the category id or "") or per
    channel (``kind`` "channel"), in one grain."""

    __tablename__ = "dashboard_daily_mix"
    __table_args__ = (Index("ix_dashboard_daily_mix_day", "day"),)

    district_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)


class DashboardMonth(Base):
    """A calendar month whose monthly mix rows were summed from its days' rows at ``built_at``."""

    __tablename__ = "dashboard_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DashboardMonthlyMix(Base):
    """``DashboardDailyMix`` summed over the days of a calendar month (``month``: its first day)."""

    __tablename__ = "dashboard_monthly_mix"
    __table_args__ = (Index("ix_dashboard_monthly_mix_month", "month"),)

    district_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)
