"""Which department handles a catalogue item (事项): the one look-up bundles and applications use.

An uploaded bundle is checked against the service catalogue (``catalogue_items``: active items of
``haoban.catalog``): a task naming an item the catalogue does not list, or another department than the
item's, is refused. A stored definition was checked when it was uploaded; parsing it again
(``STORED``) accepts its items as they are, so an item withdrawn later does not stop the applications
running on it. The shipped bundles' own list (``ITEMS.yaml``) seeds the demo catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.bundles.definitions import shipped_items
from haoban.catalog.models import ServiceItem
from haoban.directory.models import Department


@cache
def _items() -> dict[str, dict[str, Any]]:
    return {i["code"]: dict(i) for i in shipped_items()}


def item_departments() -> dict[str, str]:
    """Item code → the code of the department that handles it."""
    return {code: i["department"] for code, i in _items().items()}


def item_info(code: str) -> dict[str, Any] | None:
    """Name, kind, time limits and online level of one item (None when unknown)."""
    return _items().get(code)


def catalogue_items(session: Session) -> dict[str, str]:
    """Item code → department code of every active item in the service catalogue."""
    rows = session.execute(
        select(ServiceItem.code, Department.code)
        .join(Department, Department.id == ServiceItem.department_id)
        .where(ServiceItem.active.is_(True))
    ).all()
    return {code: dept for code, dept in rows}


class _StoredItems(Mapping[str, str]):
    """Every item is known, with no department to compare (see the module docstring)."""

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


STORED: Mapping[str, str] = _StoredItems()
