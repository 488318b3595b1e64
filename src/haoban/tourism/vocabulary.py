"""The tourism domain's words, each defined once with its zh / en label. Pure."""

from __future__ import annotations

import enum


class PlaceKind(enum.StrEnum):
    SPOT = "spot"  # 景区景点
    VENUE = "venue"  # 文化场馆 (museums, academies, former residences)
    HOTEL = "hotel"  # 酒店民宿
    FOOD = "food"  # 餐饮美食
    PRODUCT = "product"  # 特产


KIND_LABELS: dict[str, tuple[str, str]] = {
    PlaceKind.SPOT: ("景区景点", "Scenic spot"),
    PlaceKind.VENUE: ("文化场馆", "Culture venue"),
    PlaceKind.HOTEL: ("酒店民宿", "Hotel / guesthouse"),
    PlaceKind.FOOD: ("餐饮美食", "Food"),
    PlaceKind.PRODUCT: ("特产", "Local product"),
}
KIND_BY_LABEL: dict[str, str] = {zh: str(k) for k, (zh, _en) in KIND_LABELS.items()}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS: dict[str, tuple[str, str]] = {
    "mon": ("周一", "Monday"),
    "tue": ("周二", "Tuesday"),
    "wed": ("周三", "Wednesday"),
    "thu": ("周四", "Thursday"),
    "fri": ("周五", "Friday"),
    "sat": ("周六", "Saturday"),
    "sun": ("周日", "Sunday"),
}
